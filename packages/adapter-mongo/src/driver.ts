/**
 * Checks on driver errors by shape rather than by class, so the store works with whichever copy
 * of the `mongodb` package the application installed (it is a peer dependency).
 */

/** An error the server answered, with its numeric code. */
export interface MongoErrorLike extends Error {
  code: number;
}

/** True for an error carrying a numeric server `code`. */
export function isMongoError(error: unknown): error is MongoErrorLike {
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'number';
}

/** True for E11000: a write that would break a unique index (a lost race, in this store). */
export function isDuplicateKey(error: unknown): boolean {
  return isMongoError(error) && (error.code === 11000 || error.code === 11001);
}
