import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { privateDirectory, privateFile } from "../db/embedded.js";

/**
 * The operator token: OPERATOR_TOKEN when set; otherwise the one kept in the
 * data folder, generated (256 random bits, file mode 0600) on first start.
 * The folder is kept 0700 and the file 0600 also when they already exist
 * (made by an older version, copied from elsewhere, or by hand).
 */
export function resolveOperatorToken(configured: string | undefined, dataDir: string): { token: string; file?: string } {
  if (configured) return { token: configured };
  privateDirectory(dataDir);
  const file = path.join(dataDir, "operator-token");
  if (existsSync(file)) {
    privateFile(file);
    const token = readFileSync(file, "utf8").trim();
    if (token) return { token, file };
  }
  const token = `op_${randomBytes(32).toString("base64url")}`;
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { token, file };
}
