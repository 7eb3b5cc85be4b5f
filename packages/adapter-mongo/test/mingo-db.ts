import { Aggregator, update as applyModifier, Query } from 'mingo';
import type { IndexDescription } from 'mongodb';
import type { MongoDbLike } from '../src/options.js';

// An in-process stand-in for a MongoDB database, for the tests that cannot reach a server: every
// query, update and pipeline is evaluated by mingo (the query language implemented in JS), each
// write is applied to one document at once (as the server does), and unique indexes, partial ones
// included, refuse duplicates with E11000. It implements what the store calls, nothing more; the
// contract against a real server runs when MONGODB_URI is set.

type Doc = Record<string, unknown>;

const duplicateKey = (index: string) =>
  Object.assign(new Error(`E11000 duplicate key error index: ${index}`), { code: 11000 });

function clone<T>(value: T): T {
  return structuredClone(value);
}

function matches(filter: Doc, doc: Doc): boolean {
  return new Query(filter).test(doc);
}

function sortDocs(docs: Doc[], sort: Record<string, 1 | -1> | undefined): Doc[] {
  if (!sort) return docs;
  return new Aggregator([{ $sort: sort }]).run(docs) as Doc[];
}

function project(doc: Doc, projection: Record<string, 0 | 1> | undefined): Doc {
  if (!projection) return clone(doc);
  const out: Doc = { _id: doc._id };
  for (const [key, keep] of Object.entries(projection)) if (keep) out[key] = clone(doc[key]);
  return out;
}

function applyUpdate(doc: Doc, update: Doc | Doc[]): Doc {
  if (Array.isArray(update)) return new Aggregator(update).run([clone(doc)])[0] as Doc;
  const copy = clone(doc);
  applyModifier(copy, update as never);
  return copy;
}

class FakeCursor {
  #limit = Number.POSITIVE_INFINITY;
  #sort: Record<string, 1 | -1> | undefined;

  constructor(
    private readonly source: () => Doc[],
    private readonly projection: Record<string, 0 | 1> | undefined,
  ) {}

  sort(spec: Record<string, 1 | -1>) {
    this.#sort = spec;
    return this;
  }

  limit(count: number) {
    this.#limit = count;
    return this;
  }

  async toArray() {
    return sortDocs(this.source(), this.#sort)
      .slice(0, this.#limit)
      .map((doc) => project(doc, this.projection));
  }
}

/** One collection: documents in insertion order, with the unique indexes the store created. */
export class FakeCollection {
  docs: Doc[] = [];
  #unique: IndexDescription[] = [];
  /** Called before each write with its name; a test throws from it to simulate a crash there. */
  beforeWrite: (operation: string, filterOrDoc: Doc) => void = () => {};

  constructor(readonly name: string) {}

  #check(candidate: Doc, except?: Doc): void {
    for (const other of this.docs) {
      if (other === except) continue;
      if (other._id === candidate._id) throw duplicateKey('_id_');
    }
    for (const index of this.#unique) {
      const partial = index.partialFilterExpression as Doc | undefined;
      if (partial && !matches(partial, candidate)) continue;
      const fields = Object.keys(index.key);
      const key = JSON.stringify(fields.map((field) => candidate[field] ?? null));
      for (const other of this.docs) {
        // The key first: evaluating the partial filter on every document made bulk inserts quadratic in mingo.
        if (other === except || JSON.stringify(fields.map((field) => other[field] ?? null)) !== key) continue;
        if (partial && !matches(partial, other)) continue;
        throw duplicateKey(String(index.name));
      }
    }
  }

  async createIndexes(specs: IndexDescription[]) {
    this.#unique.push(...specs.filter((spec) => spec.unique));
    return specs.map((spec) => spec.name);
  }

  async insertOne(doc: Doc) {
    this.beforeWrite('insertOne', doc);
    const stored = clone(doc);
    this.#check(stored);
    this.docs.push(stored);
    return { acknowledged: true, insertedId: stored._id };
  }

  /**
   * Ordered by default: the first duplicate stops the batch with E11000. With `ordered: false`
   * every document is tried and the duplicates are reported together in `writeErrors`.
   */
  async insertMany(docs: Doc[], options: { ordered?: boolean } = {}) {
    const writeErrors: { index: number; code: number; errmsg: string }[] = [];
    for (const [index, doc] of docs.entries()) {
      try {
        await this.insertOne(doc);
      } catch (error) {
        if (options.ordered !== false || (error as { code?: unknown }).code !== 11000) throw error;
        writeErrors.push({ index, code: 11000, errmsg: (error as Error).message });
      }
    }
    if (writeErrors.length > 0)
      throw Object.assign(new Error(`E11000 duplicate key error (${writeErrors.length} documents)`), {
        code: 11000,
        writeErrors,
      });
    return { acknowledged: true, insertedCount: docs.length - writeErrors.length };
  }

  #first(filter: Doc, sort?: Record<string, 1 | -1>): Doc | undefined {
    return sortDocs(
      this.docs.filter((doc) => matches(filter, doc)),
      sort,
    )[0];
  }

  async findOne(
    filter: Doc,
    options: { sort?: Record<string, 1 | -1>; projection?: Record<string, 0 | 1> } = {},
  ) {
    const doc = this.#first(filter, options.sort);
    return doc ? project(doc, options.projection) : null;
  }

  find(filter: Doc = {}, options: { projection?: Record<string, 0 | 1> } = {}) {
    return new FakeCursor(() => this.docs.filter((doc) => matches(filter, doc)), options.projection);
  }

  async countDocuments(filter: Doc, options: { limit?: number } = {}) {
    const count = this.docs.filter((doc) => matches(filter, doc)).length;
    return options.limit === undefined ? count : Math.min(count, options.limit);
  }

  #replace(doc: Doc, next: Doc): void {
    this.#check(next, doc);
    this.docs[this.docs.indexOf(doc)] = next;
  }

  async findOneAndUpdate(
    filter: Doc,
    update: Doc | Doc[],
    options: {
      returnDocument?: 'before' | 'after';
      projection?: Record<string, 0 | 1>;
      sort?: Record<string, 1 | -1>;
    } = {},
  ) {
    this.beforeWrite('findOneAndUpdate', filter);
    const doc = this.#first(filter, options.sort);
    if (!doc) return null;
    const next = applyUpdate(doc, update);
    this.#replace(doc, next);
    return project(options.returnDocument === 'after' ? next : doc, options.projection);
  }

  async updateOne(filter: Doc, update: Doc | Doc[]) {
    this.beforeWrite('updateOne', filter);
    const doc = this.#first(filter);
    if (doc) this.#replace(doc, applyUpdate(doc, update));
    return { matchedCount: doc ? 1 : 0, modifiedCount: doc ? 1 : 0 };
  }

  async updateMany(filter: Doc, update: Doc | Doc[]) {
    this.beforeWrite('updateMany', filter);
    const found = this.docs.filter((doc) => matches(filter, doc));
    for (const doc of found) this.#replace(doc, applyUpdate(doc, update));
    return { matchedCount: found.length, modifiedCount: found.length };
  }

  async findOneAndDelete(filter: Doc) {
    this.beforeWrite('findOneAndDelete', filter);
    const doc = this.#first(filter);
    if (!doc) return null;
    this.docs.splice(this.docs.indexOf(doc), 1);
    return clone(doc);
  }

  async deleteOne(filter: Doc) {
    this.beforeWrite('deleteOne', filter);
    const doc = this.#first(filter);
    if (doc) this.docs.splice(this.docs.indexOf(doc), 1);
    return { deletedCount: doc ? 1 : 0 };
  }

  async deleteMany(filter: Doc) {
    this.beforeWrite('deleteMany', filter);
    const before = this.docs.length;
    this.docs = this.docs.filter((doc) => !matches(filter, doc));
    return { deletedCount: before - this.docs.length };
  }
}

/** A database of fake collections, shared by every store created on it. */
export function fakeMongoDb(): { db: MongoDbLike; collection(name: string): FakeCollection } {
  const collections = new Map<string, FakeCollection>();
  const collection = (name: string) => {
    let found = collections.get(name);
    if (!found) {
      found = new FakeCollection(name);
      collections.set(name, found);
    }
    return found;
  };
  const db = {
    collection,
    // A standalone server: no change streams.
    command: async () => ({ isWritablePrimary: true }),
  };
  return { db: db as unknown as MongoDbLike, collection };
}
