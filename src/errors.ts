// Domain errors shared by catalog/ and sales/. Plain classes: the GraphQL layer turns them into
// typed union members, so the domain never imports GraphQL.

/**
 * An expected failure, returned to the client as data. It records no stack trace: rejected buyers
 * are most of a flash sale's traffic, and capturing (and source-mapping) a stack for each cost CPU
 * that told nobody anything.
 */
export class ExpectedError extends Error {
  constructor(message: string) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
  }
}

/** An id that is well formed but names nothing the caller may see. */
export class NotFoundError extends ExpectedError {
  constructor(
    readonly id: string,
    readonly typename: string,
  ) {
    super(`No ${typename} has this id.`);
    this.name = 'NotFoundError';
  }
}

/** One problem with an input, addressed by its path (e.g. `sections.2.seatsPerRow`). */
export interface InputProblem {
  path: string;
  message: string;
}

/** Input that breaks the rules; lists every problem at once. Nothing was written. */
export class InvalidInputError extends ExpectedError {
  constructor(readonly problems: InputProblem[]) {
    super(`The input has ${problems.length} problem${problems.length === 1 ? '' : 's'}; nothing was written.`);
    this.name = 'InvalidInputError';
  }
}

/**
 * A request that breaks an input rule which has no typed member in the operation's result (a seat
 * count, an idempotency key's length). The GraphQL layer answers it as `BAD_USER_INPUT`.
 */
export class BadRequestError extends ExpectedError {
  constructor(message: string) {
    super(message);
    this.name = 'BadRequestError';
  }
}
