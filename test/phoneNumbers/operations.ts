// The phone-number operations the tests in this folder send, in one place.
import { gql, gqlData } from "../helpers/app.js";
import { fundCharges } from "../helpers/factories.js";

const NUMBER_FIELDS = "id number status friendlyName createdAt releasedAt account { id }";
const ERROR_FIELDS = "... on Error { code message }";

export const PROVISION = `mutation($input: ProvisionPhoneNumberInput!) { provisionPhoneNumber(input: $input) {
  __typename ... on ProvisionPhoneNumberSuccess { phoneNumber { ${NUMBER_FIELDS} } }
  ... on ValidationError { fieldErrors { path message } } ... on AccountNotActiveError { status } ${ERROR_FIELDS} } }`;

export const TRANSFER = `mutation($input: TransferPhoneNumberInput!) { transferPhoneNumber(input: $input) {
  __typename ... on TransferPhoneNumberSuccess { phoneNumber { ${NUMBER_FIELDS} } }
  ... on AccountNotActiveError { status } ${ERROR_FIELDS} } }`;

export const RELEASE = `mutation($input: ReleasePhoneNumberInput!) { releasePhoneNumber(input: $input) {
  __typename ... on ReleasePhoneNumberSuccess { phoneNumber { ${NUMBER_FIELDS} } } ${ERROR_FIELDS} } }`;

/** The numbers of one account as `token` sees them: null when the account is out of reach. */
export const NUMBERS_OF = `query($id: ID!, $includeReleased: Boolean) { node(id: $id) { ... on Account {
  phoneNumbers(first: 250, includeReleased: $includeReleased) { totalCount nodes { ${NUMBER_FIELDS} } } } } }`;

/** Provisions a number; the paying balance is funded first (provisioning charges a month: billing has its own tests). */
export const provision = async (token: string | null, input: { accountId: string; number: string; friendlyName?: string | null }) => {
  await fundCharges(input.accountId);
  return gql(PROVISION, { token, variables: { input } });
};

export const transfer = (token: string | null, id: string, toAccountId: string) => gql(TRANSFER, { token, variables: { input: { id, toAccountId } } });

export const release = (token: string | null, id: string) => gql(RELEASE, { token, variables: { input: { id } } });

// The mutation helpers above return responses; `result` unwraps one.
export { result } from "../helpers/app.js";

/** The phone numbers of an account as `token` sees them (null when unreachable). */
export async function numbersOf(token: string, accountId: string, includeReleased = false): Promise<{ totalCount: number; nodes: any[] } | null> {
  const data = await gqlData(NUMBERS_OF, { token, variables: { id: accountId, includeReleased } });
  return data.node?.phoneNumbers ?? null;
}

/** Audit events of the caller's own account (for a manager: its whole tree), newest first. */
export async function ownAuditEvents(
  token: string,
): Promise<{ id: string; action: string; actorRole: string; actorApiKeyPrefix: string | null; account: { id: string } | null }[]> {
  const data = await gqlData(`{ viewer { account { auditEvents(first: 250) { nodes { id action actorRole actorApiKeyPrefix account { id } } } } } }`, {
    token,
  });
  return data.viewer.account.auditEvents.nodes;
}
