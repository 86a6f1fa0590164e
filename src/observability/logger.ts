import pino from "pino";
import { logLevel } from "../config.js";

/** Structured JSON logs (one object per line) for the whole process. */
export const logger = pino({
  level: logLevel(),
  base: undefined,
  messageKey: "message",
  timestamp: pino.stdTimeFunctions.isoTime,
  formatters: { level: (label) => ({ level: label }) },
});
