// Paging rules shared by the argument checks (schema/argumentRules.ts) and
// the list readers (read/, the Prisma connections): one reading of a page's
// arguments, so what is judged is what is read.

/** Page sizes every connection accepts (DOMAIN.md: Listing). */
export const PAGE_SIZE = { min: 1, max: 250, default: 20 } as const;

export interface PageArguments {
  first?: number | null;
  last?: number | null;
  after?: string | null;
  before?: string | null;
}

/**
 * The page a connection reads: backwards (`last`, default 20) when `last` or
 * `before` is given and `first` is only the schema's default, so Relay
 * clients' `last: 7` alone works. `firstGiven` says whether the client wrote
 * `first` itself; resolvers cannot tell, and take `first: 20` for the
 * default (an explicit `first` beside `last`/`before` never reaches them:
 * the argument rules refuse it).
 */
export function effectivePage(
  args: PageArguments,
  firstGiven = args.first != null && args.first !== PAGE_SIZE.default,
): { first: number | null; last: number | null } {
  const backwards = !firstGiven && (args.last != null || args.before != null);
  return backwards ? { first: null, last: args.last ?? PAGE_SIZE.default } : { first: args.first ?? null, last: args.last ?? null };
}
