import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

/**
 * The operator token: OPERATOR_TOKEN when set; otherwise the one kept in the
 * data folder, generated (256 random bits, file mode 0600) on first start.
 */
export function resolveOperatorToken(configured: string | undefined, dataDir: string): { token: string; file?: string } {
  if (configured) return { token: configured };
  const file = path.join(dataDir, "operator-token");
  if (existsSync(file)) {
    const token = readFileSync(file, "utf8").trim();
    if (token) return { token, file };
  }
  mkdirSync(dataDir, { recursive: true });
  const token = "op_" + randomBytes(32).toString("base64url");
  writeFileSync(file, token + "\n", { mode: 0o600 });
  chmodSync(file, 0o600);
  return { token, file };
}
