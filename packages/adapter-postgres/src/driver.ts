/** What a query resolves to: the rows, and how many rows a write touched. */
export interface PgResultLike {
  rows: Record<string, unknown>[];
  rowCount: number | null;
}

/** Anything that runs a parameterised query: a `pg` Pool, Client or PoolClient. */
export interface PgQueryable {
  /** Send `text` with positional `values` ($1, $2…) and resolve with the result. */
  query(text: string, values?: unknown[]): Promise<PgResultLike>;
}

/** A LISTEN/NOTIFY message as `pg` delivers it. */
export interface PgNotificationLike {
  channel: string;
  payload?: string | undefined;
}

/** A connection checked out of the pool; the store borrows one for LISTEN and one per migration. */
export interface PgPoolClientLike extends PgQueryable {
  /** Give the connection back; pass an error (or true) to have the pool discard it. */
  release(destroy?: Error | boolean): void;
  on(event: 'notification', listener: (message: PgNotificationLike) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
  removeListener(event: 'notification', listener: (message: PgNotificationLike) => void): unknown;
  removeListener(event: 'error', listener: (error: Error) => void): unknown;
  removeListener(event: 'end', listener: () => void): unknown;
}

/** A query sent by name: `pg` prepares its text once per connection and then only binds values. */
export interface PgNamedQuery {
  /** Unique per text; a connection that has prepared it skips parsing and planning. */
  name: string;
  text: string;
  values: unknown[];
}

/**
 * The database handle the store uses, typed structurally: a `pg` `Pool` fits. The store runs its
 * queries on it (the frequent ones by name, see `preparedStatements`), checks out a client for
 * migrations and for LISTEN, and never ends it.
 */
export interface PgPoolLike extends PgQueryable {
  query(text: string, values?: unknown[]): Promise<PgResultLike>;
  query(query: PgNamedQuery): Promise<PgResultLike>;
  /** Check out one connection for exclusive use until `release()`. */
  connect(): Promise<PgPoolClientLike>;
}
