import type { GraphiQLOptions } from "graphql-yoga";

// What a person sees first at /graphql in a browser: a place for the key
// (the Headers tab, open) and one tab per thing worth trying.

/** The Headers editor before a key is entered; also how a tab without a key of its own is recognised. */
export const PLACEHOLDER_HEADERS = JSON.stringify({ Authorization: "Bearer <your API key or operator token>" }, null, 2);

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

const EVENTS = `# What happens to the caller's accounts, live (Server-Sent Events): run it, then
# change something in another tab. To resume after a disconnect, pass the id
# of the last event received as \`after\`.
subscription Events($after: String) {
  events(after: $after) {
    id
    type
    occurredAt
    account { id }
    data
  }
}
`;

const RESTRICTED_KEY = `# A least-privilege key: it may do only what its permissions cover, and its
# schema (introspection, validation) shows nothing else. This one records
# usage and reads quantities, never prices. A restricted key creates only keys
# with some of its own permissions.
mutation CreateRestrictedKey($input: CreateApiKeyInput!) {
  createApiKey(input: $input) {
    __typename
    ... on CreateApiKeySuccess { secret apiKey { id name permissions expiresAt } }
    ... on Error { code message }
  }
}
`;

const ACT_AS = `# A manager acting as one of its sub-accounts sees and does exactly what the
# sub-account may (no prices); its changes are recorded as the manager's key,
# with viaActAs. Add to the Headers below, beside Authorization:
#   "Act-As-Account": "<a sub-account id>"
query ActAs {
  viewer {
    role
    actingAs
    apiKey { name prefix permissions }
    account { id email ... on SubAccount { managerEmail balance { available { amount } } } }
  }
}
`;

export const graphiqlOptions: GraphiQLOptions = {
  title: "Account gateway",
  // The example tabs carry no headers: the page shares one key (see
  // GRAPHIQL_PAGE_SCRIPT), and GraphiQL shows this until one is entered.
  defaultHeaders: PLACEHOLDER_HEADERS,
  defaultEditorToolsVisibility: "headers",
  // Keys and the operator token stay out of localStorage (the page script
  // also scrubs headers from whatever GraphiQL stores, and from old visits).
  shouldPersistHeaders: false,
  defaultTabs: [
    { query: VIEWER },
    { query: TREE },
    {
      query: CREATE_SUB_ACCOUNT,
      variables: JSON.stringify({ input: { email: "it@customer.example", organizationName: "Customer Inc.", creditLimit: "100.00" } }, null, 2),
    },
    {
      query: RECORD_USAGE,
      variables: JSON.stringify({ input: { accountId: "<a sub-account id>", product: "SMS_OUTBOUND", quantity: 10, idempotencyKey: "try-1" } }, null, 2),
    },
    { query: EVENTS },
    {
      query: RESTRICTED_KEY,
      variables: JSON.stringify(
        { input: { accountId: "<your account id, or a sub-account's>", name: "usage reporter", permissions: ["USAGE_WRITE", "ACCOUNTS_READ"] } },
        null,
        2,
      ),
    },
    { query: ACT_AS },
  ],
};

/** Replaced in Yoga's page by `gatewayGraphiQL(YogaGraphiQL.renderYogaGraphiQL)(`, so the page script wraps the renderer. */
export const GRAPHIQL_RENDER_CALL = "YogaGraphiQL.renderYogaGraphiQL(";

/**
 * Runs in the browser before GraphiQL (injected by graphiqlDelivery.ts): the
 * options above are JSON, and what GraphiQL 5 lacks needs functions.
 *
 * - One key for the page. GraphiQL keeps headers per tab and, on a tab
 *   switch, shows that tab's own (or the default) headers, so a key pasted
 *   in one tab did not reach the others. onTabChange receives GraphiQL's tab
 *   objects; the headers last entered are written into every tab, so a
 *   switch shows them. A new tab starts with the default headers: it gets
 *   the key too and is selected again so its editor shows it.
 * - The schema follows the key. GraphiQL introspects only on load and on
 *   its Re-fetch button; a change of headers (once they are valid JSON and
 *   differ from those of the last introspection) presses its Shift-Ctrl-R.
 * - No secret in storage. shouldPersistHeaders: false keeps headers out of
 *   the tab state, but GraphiQL's history stores them regardless (Yoga's
 *   page has it off today); the storage given to GraphiQL drops every
 *   "headers" value before localStorage sees it, and scrubs what an earlier
 *   version of this page (which persisted headers) left there.
 *
 * Plain ES2017, no build step: this text is what the browser runs.
 */
export const GRAPHIQL_PAGE_SCRIPT = `
window.gatewayGraphiQL = function (render) {
  return function (root, options) {
    var placeholder = options.defaultHeaders;
    var isUnset = function (headers) { return headers == null || headers === placeholder; };

    var shared = null;
    var latest = null;
    var reselecting = false;
    var onTabChange = function (state) {
      latest = state;
      var active = state.tabs[state.activeTabIndex];
      if (!active) return;
      if (!isUnset(active.headers)) shared = active.headers;
      if (shared === null) return;
      state.tabs.forEach(function (tab) { if (tab !== active) tab.headers = shared; });
      if (isUnset(active.headers)) reselectActiveTab();
    };
    var reselectActiveTab = function () {
      if (reselecting) return;
      reselecting = true;
      // After GraphiQL has rendered the new tab; its editor then shows the tab's headers.
      setTimeout(function () {
        reselecting = false;
        var active = latest && latest.tabs[latest.activeTabIndex];
        if (!active || shared === null) return;
        if (isUnset(active.headers)) active.headers = shared;
        var button = document.getElementById("graphiql-session-tab-" + latest.activeTabIndex);
        if (button) button.click();
      }, 0);
    };

    var normalized = function (text) {
      try {
        var value = JSON.parse(text || "{}");
        return value && typeof value === "object" && !Array.isArray(value) ? JSON.stringify(value) : null;
      } catch (error) {
        return null;
      }
    };
    var introspectedWith = normalized(placeholder);
    var refetchTimer;
    var onEditHeaders = function (text) {
      clearTimeout(refetchTimer);
      refetchTimer = setTimeout(function () {
        var headers = normalized(text);
        if (headers === null || headers === introspectedWith) return;
        introspectedWith = headers;
        window.dispatchEvent(new KeyboardEvent("keydown", { key: "R", code: "KeyR", ctrlKey: true, shiftKey: true }));
      }, 400);
    };

    var local;
    try {
      local = window.localStorage;
      local.getItem("graphiql:tabState");
    } catch (error) {
      var memory = new Map();
      local = {
        getItem: function (key) { return memory.has(key) ? memory.get(key) : null; },
        setItem: function (key, value) { memory.set(key, String(value)); },
        removeItem: function (key) { memory.delete(key); },
        key: function (index) { return Array.from(memory.keys())[index] || null; },
        get length() { return memory.size; },
      };
    }
    var WITH_HEADERS = ["graphiql:tabState", "graphiql:queries", "graphiql:favorites"];
    var scrubbed = function (key, value) {
      if (key === "graphiql:headers") return null;
      if (WITH_HEADERS.indexOf(key) < 0) return value;
      try {
        return JSON.stringify(JSON.parse(value), function (name, item) { return name === "headers" ? null : item; });
      } catch (error) {
        return null;
      }
    };
    var ownKeys = function () {
      var keys = [];
      for (var i = 0; i < local.length; i++) {
        var key = local.key(i);
        if (key && key.indexOf("graphiql:") === 0) keys.push(key);
      }
      return keys;
    };
    var storage = {
      getItem: function (key) { return local.getItem(key); },
      setItem: function (key, value) {
        var kept = scrubbed(key, value);
        if (kept === null) local.removeItem(key);
        else local.setItem(key, kept);
      },
      removeItem: function (key) { local.removeItem(key); },
      clear: function () { ownKeys().forEach(function (key) { local.removeItem(key); }); },
      get length() { return ownKeys().length; },
    };
    ownKeys().forEach(function (key) {
      var value = local.getItem(key);
      if (value !== null && scrubbed(key, value) !== value) storage.setItem(key, value);
    });

    return render(root, Object.assign({}, options, {
      shouldPersistHeaders: false,
      storage: storage,
      onTabChange: onTabChange,
      onEditHeaders: onEditHeaders,
    }));
  };
};
`;
