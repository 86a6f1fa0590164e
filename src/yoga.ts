import { randomUUID } from "node:crypto";
import { createYoga } from "graphql-yoga";
import { authenticate } from "./auth/authenticate.js";
import type { Context } from "./context.js";
import { useArgumentRules } from "./schema/argumentRules.js";
import { schema } from "./schema/index.js";

export interface AppOptions {
  operatorToken: string;
  production: boolean;
}

/** The gateway as a fetch-style app: `server.ts` listens with it, tests call `yoga.fetch`. */
export function createApp({ operatorToken, production }: AppOptions) {
  return createYoga<Record<string, unknown>, Context>({
    schema,
    graphqlEndpoint: "/graphql",
    healthCheckEndpoint: "/health",
    landingPage: false,
    batching: false,
    graphiql: {
      title: "Account gateway",
      headers: JSON.stringify({ Authorization: "Bearer <your API key or operator token>" }),
    },
    maskedErrors: { isDev: !production },
    context: async ({ request }): Promise<Context> => ({
      viewer: await authenticate(request.headers.get("authorization"), operatorToken),
      requestId: request.headers.get("x-request-id")?.slice(0, 100) || randomUUID(),
    }),
    plugins: [useArgumentRules()],
  });
}

export type App = ReturnType<typeof createApp>;
