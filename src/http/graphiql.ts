import type { GraphiQLOptions } from "graphql-yoga";

// What a person sees first at /graphql in a browser: a place for the key
// (the Headers tab, open) and one tab per thing worth trying.

const HEADERS = JSON.stringify({ Authorization: "Bearer <your API key or operator token>" }, null, 2);

const VIEWER = `# Who am I? Paste a key in the Headers tab below first
# (npm run seed prints some), then press the run button.
query Viewer {
  viewer {
    role
    apiKey { name prefix lastUsedAt }
    account { id email organizationName status }
  }
}
`;

const TREE = `# A manager's account tree: sub-accounts with their numbers, keys and balances.
query AccountTree($after: String) {
  viewer {
    account {
      ... on Manager {
        email
        balance { available { amount currency } }
        subAccounts(first: 20, after: $after) {
          totalCount
          pageInfo { hasNextPage endCursor }
          nodes {
            id
            email
            organizationName
            status
            effectiveStatus
            totalSpent { amount }
            balance { shared available { amount } }
            phoneNumbers { nodes { number friendlyName } }
            apiKeys { nodes { name prefix lastUsedAt } }
          }
        }
      }
    }
  }
}
`;

const CREATE_SUB_ACCOUNT = `# As a manager: create a sub-account for a customer.
mutation CreateSubAccount($input: CreateSubAccountInput!) {
  createSubAccount(input: $input) {
    __typename
    ... on CreateSubAccountSuccess { subAccount { id email status rollupBilling creditLimit { amount } } }
    ... on ValidationError { message fieldErrors { path message } }
    ... on Error { code message }
  }
}
`;

const RECORD_USAGE = `# Charge usage to an account (its own balance, or its manager's with rollup billing).
mutation RecordUsage($input: RecordUsageInput!) {
  recordUsage(input: $input) {
    __typename
    ... on RecordUsageSuccess {
      usageRecord { id product quantity occurredAt }
      balance { available { amount } totalSpent { amount } remainingCredit { amount } }
    }
    ... on Error { code message }
  }
}
`;

export const graphiqlOptions: GraphiQLOptions = {
  title: "Account gateway",
  headers: HEADERS,
  defaultHeaders: HEADERS,
  defaultEditorToolsVisibility: "headers",
  defaultTabs: [
    { query: VIEWER, headers: HEADERS },
    { query: TREE, headers: HEADERS },
    {
      query: CREATE_SUB_ACCOUNT,
      headers: HEADERS,
      variables: JSON.stringify({ input: { email: "it@customer.example", organizationName: "Customer Inc.", creditLimit: "100.00" } }, null, 2),
    },
    {
      query: RECORD_USAGE,
      headers: HEADERS,
      variables: JSON.stringify({ input: { accountId: "<a sub-account id>", product: "SMS_OUTBOUND", quantity: 10, idempotencyKey: "try-1" } }, null, 2),
    },
  ],
};
