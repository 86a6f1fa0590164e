// The phone-number operations the tests in this folder send, in one place.
import { gql, gqlData } from "../helpers/app.js";
import { fundCharges } from "../helpers/factories.js";
import { graphql, type ResultOf } from "../helpers/graphql.js";

// Every document selects the same phone-number fields:
// id number status friendlyName createdAt releasedAt account { id }
// and `... on Error { code message }` for the error members.

export const PROVISION = graphql(`mutation($input: ProvisionPhoneNumberInput!) { provisionPhoneNumber(input: $input) {
  __typename ... on ProvisionPhoneNumberSuccess { phoneNumber { id number status friendlyName createdAt releasedAt account { id } } }
  ... on ValidationError { fieldErrors { path message } } ... on AccountNotActiveError { status } ... on Error { code message } } }`);

export const TRANSFER = graphql(`mutation($input: TransferPhoneNumberInput!) { transferPhoneNumber(input: $input) {
  __typename ... on TransferPhoneNumberSuccess { phoneNumber { id number status friendlyName createdAt releasedAt account { id } } }
  ... on AccountNotActiveError { status } ... on Error { code message } } }`);

export const RELEASE = graphql(`mutation($input: ReleasePhoneNumberInput!) { releasePhoneNumber(input: $input) {
  __typename ... on ReleasePhoneNumberSuccess { phoneNumber { id number status friendlyName createdAt releasedAt account { id } } }
  ... on Error { code message } } }`);

/** The numbers of one account as `token` sees them: null when the account is out of reach. */
export const NUMBERS_OF = graphql(`query($id: ID!, $includeReleased: Boolean) { node(id: $id) { ... on Account {
  phoneNumbers(first: 250, includeReleased: $includeReleased) { totalCount nodes { id number status friendlyName createdAt releasedAt account { id } } } } } }`);

const OWN_AUDIT_EVENTS = graphql(`{ viewer { account { auditEvents(first: 250) { nodes { id action actorRole actorApiKeyPrefix account { id } } } } } }`);

/** Provisions a number; the paying balance is funded first (provisioning charges a month: billing has its own tests). */
export const provision = async (token: string | null, input: { accountId: string; number: string; friendlyName?: string | null }) => {
  await fundCharges(input.accountId);
  return gql(PROVISION, { token, variables: { input } });
};

export const transfer = (token: string | null, id: string, toAccountId: string) => gql(TRANSFER, { token, variables: { input: { id, toAccountId } } });

export const release = (token: string | null, id: string) => gql(RELEASE, { token, variables: { input: { id } } });

// The mutation helpers above return responses; `result` unwraps one.
export { result } from "../helpers/app.js";

/**
 * A mutation result narrowed to its member `typename`; fails the test when it is another member.
 * (TypeScript does not narrow a generic union by a check on `__typename`, hence the cast after the check.)
 */
export function expectTypename<T extends { __typename: string }, N extends T["__typename"]>(r: T, typename: N): Extract<T, { __typename: N }> {
  if (r.__typename !== typename) throw new Error(`expected a ${typename}, got ${JSON.stringify(r)}`);
  return r as Extract<T, { __typename: N }>;
}

/** A mutation result that must be an error (a member with a `code`); fails the test otherwise. */
export function expectError<T extends { __typename: string }>(r: T): Extract<T, { code: string }> {
  if (!("code" in r)) throw new Error(`expected an error, got ${JSON.stringify(r)}`);
  return r as Extract<T, { code: string }>;
}

type PhoneNumbers = NonNullable<Extract<ResultOf<typeof NUMBERS_OF>["node"], { phoneNumbers: unknown }>["phoneNumbers"]>;

/** The phone numbers of an account as `token` sees them (null when unreachable). */
export async function numbersOf(token: string, accountId: string, includeReleased = false): Promise<PhoneNumbers | null> {
  const data = await gqlData(NUMBERS_OF, { token, variables: { id: accountId, includeReleased } });
  const node = data.node;
  if (node === null || !("phoneNumbers" in node)) return null;
  return node.phoneNumbers;
}

/** Audit events of the caller's own account (for a manager: its whole tree), newest first. */
export async function ownAuditEvents(token: string) {
  const data = await gqlData(OWN_AUDIT_EVENTS, { token });
  const account = data.viewer.account;
  if (account === null) throw new Error("ownAuditEvents: the caller has no account (an operator?)");
  return account.auditEvents.nodes;
}
