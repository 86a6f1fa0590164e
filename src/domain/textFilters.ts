// What a text filter (`StringFilter` in the schema: `eq`, `contains`) means,
// in one place. Two lists apply it: `Manager.subAccounts` in plain SQL
// (read/lists.ts) and the operator's `managers` through Prisma
// (schema/accounts/queries.ts); both build their conditions from these
// functions, and test/read/textMatches.test.ts checks they answer alike.

/** A text filter's conditions; given together, all must hold. */
export interface TextFilter {
  eq?: string | null;
  contains?: string | null;
}

/** The text fields a filter can name. */
export type FilteredTextField = "email" | "organizationName";

/** `contains` needs this many characters: shorter ones match most of a tree and defeat the trigram indexes. */
export const CONTAINS_MIN_LENGTH = 3;
/** No filter value is longer than the longest email. */
export const FILTER_MAX_LENGTH = 254;

/** The value `eq` compares with: emails are stored lowercased, so an exact email match lowercases too. */
export const eqValue = (field: FilteredTextField, value: string): string => (field === "email" ? value.toLowerCase() : value);

/** `%`, `_` and `\` are LIKE metacharacters: escaped, they match themselves (Prisma's `contains` does not escape them). */
export const likeLiteral = (value: string): string => value.replace(/[\\%_]/g, (c) => `\\${c}`);

/** The case-insensitive LIKE pattern of `contains`. */
export const containsPattern = (value: string): string => `%${likeLiteral(value)}%`;

/** What is wrong with the filters of `fields` (checked before any SQL runs, schema/argumentRules.ts). */
export function textFilterProblems(filter: Partial<Record<FilteredTextField, TextFilter | null>> | null | undefined): string[] {
  const problems: string[] = [];
  for (const field of ["email", "organizationName"] as const) {
    const f = filter?.[field];
    if (f?.contains != null && [...f.contains].length < CONTAINS_MIN_LENGTH) {
      problems.push(`filter.${field}.contains must be at least ${CONTAINS_MIN_LENGTH} characters`);
    }
    for (const op of ["eq", "contains"] as const) {
      const v = f?.[op];
      if (v != null && [...v].length > FILTER_MAX_LENGTH) problems.push(`filter.${field}.${op} must be at most ${FILTER_MAX_LENGTH} characters`);
      if (v?.includes("\u0000")) problems.push(`filter.${field}.${op} must not contain NUL characters`);
    }
  }
  return problems;
}
