import { randomUUID } from 'node:crypto';
import { type Db, MongoClient } from 'mongodb';

/** The server the suites run against; they are skipped when it is not set. */
export const MONGODB_URI: string | undefined = process.env.MONGODB_URI || undefined;

/** A new client on the test server (its own connection pool); the caller closes it. */
export function connect(): MongoClient {
  return new MongoClient(MONGODB_URI as string, { serverSelectionTimeoutMS: 5_000 });
}

/** A database name no other test file uses; drop it when done. */
export function uniqueDatabaseName(label: string): string {
  return `ck_test_${label}_${randomUUID().slice(0, 8)}`;
}

/** Drop every collection whose name starts with `prefix`. */
export async function dropCollections(db: Db, prefix: string): Promise<void> {
  const collections = await db.listCollections({}, { nameOnly: true }).toArray();
  await Promise.all(
    collections.filter((info) => info.name.startsWith(prefix)).map((info) => db.dropCollection(info.name)),
  );
}
