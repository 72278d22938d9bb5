/** The little logging the app does; tests pass {@link silentLogger}. */
export interface Logger {
  info(message: string): void;
  warn(message: string, error?: unknown): void;
  error(message: string, error?: unknown): void;
}

/** Writes to stdout and stderr. */
export const consoleLogger: Logger = {
  info: (message) => console.log(message),
  warn: (message, error) => console.warn(message, ...(error === undefined ? [] : [error])),
  error: (message, error) => console.error(message, ...(error === undefined ? [] : [error])),
};

/** Drops everything. */
export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
