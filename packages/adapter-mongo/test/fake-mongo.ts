import type { Document } from 'mongodb';
import type { MongoDbLike } from '../src/options.js';

/**
 * A database of in-memory collections that answers the queries and updates the store sends, with
 * MongoDB's semantics for the operators it uses (and an error for any other), so crash windows can
 * be replayed without a server: `failNext` makes the next call of a method fail as a dropped
 * connection would, between two steps of the store. Unique indexes are the ones the store relies
 * on to decide races (`_id`, and each collection's unique index declared here).
 */

type Predicate = (doc: Document) => boolean;

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !(value instanceof Date) && !Array.isArray(value);

function get(doc: Document, path: string): unknown {
  let value: unknown = doc;
  for (const part of path.split('.')) {
    if (!isPlainObject(value)) return undefined;
    value = value[part];
  }
  return value;
}

function set(doc: Document, path: string, value: unknown): void {
  const parts = path.split('.');
  let target: Record<string, unknown> = doc;
  for (const part of parts.slice(0, -1)) {
    if (!isPlainObject(target[part])) target[part] = {};
    target = target[part] as Record<string, unknown>;
  }
  target[parts[parts.length - 1] as string] = value;
}

function unset(doc: Document, path: string): void {
  const parts = path.split('.');
  let target: unknown = doc;
  for (const part of parts.slice(0, -1)) target = isPlainObject(target) ? target[part] : undefined;
  if (isPlainObject(target)) delete target[parts[parts.length - 1] as string];
}

const comparable = (value: unknown): unknown => (value instanceof Date ? value.getTime() : value);

function equal(a: unknown, b: unknown): boolean {
  if (a instanceof Date || b instanceof Date) return comparable(a) === comparable(b);
  if (a === undefined) return b === null;
  return JSON.stringify(a) === JSON.stringify(b);
}

function compare(a: unknown, b: unknown): number {
  const [x, y] = [comparable(a), comparable(b)];
  if (x === y) return 0;
  if (x === null || x === undefined) return -1;
  if (y === null || y === undefined) return 1;
  return (x as number) < (y as number) ? -1 : 1;
}

function valueMatches(value: unknown, condition: unknown): boolean {
  const values = Array.isArray(value) ? [value, ...value] : [value];
  if (!isPlainObject(condition) || !Object.keys(condition).some((key) => key.startsWith('$')))
    return values.some((candidate) => equal(candidate, condition));
  return Object.entries(condition).every(([operator, operand]) => {
    switch (operator) {
      case '$eq':
        return values.some((candidate) => equal(candidate, operand));
      case '$ne':
        return !values.some((candidate) => equal(candidate, operand));
      case '$in':
        return (operand as unknown[]).some((item) => values.some((candidate) => equal(candidate, item)));
      case '$exists':
        return (value !== undefined) === operand;
      case '$lt':
        return value !== undefined && value !== null && compare(value, operand) < 0;
      case '$lte':
        return value !== undefined && value !== null && compare(value, operand) <= 0;
      case '$gt':
        return value !== undefined && value !== null && compare(value, operand) > 0;
      case '$gte':
        return value !== undefined && value !== null && compare(value, operand) >= 0;
      case '$type':
        return operand === 'string' ? typeof value === 'string' : operand === 'date' && value instanceof Date;
      default:
        throw new Error(`fake-mongo: query operator ${operator} is not supported`);
    }
  });
}

export function matcher(filter: Document): Predicate {
  return (doc) =>
    Object.entries(filter).every(([key, condition]) => {
      if (key === '$and') return (condition as Document[]).every((part) => matcher(part)(doc));
      if (key === '$or') return (condition as Document[]).some((part) => matcher(part)(doc));
      if (key === '$nor') return !(condition as Document[]).some((part) => matcher(part)(doc));
      if (key.startsWith('$')) throw new Error(`fake-mongo: query operator ${key} is not supported`);
      return valueMatches(get(doc, key), condition);
    });
}

/**
 * A field path to a field the document lacks. As on the server, `$set` leaves such a field out
 * (it does not write null), and every operator reads it as null.
 */
const MISSING = Symbol('missing');
const present = (value: unknown): unknown => (value === MISSING ? null : value);

/** An aggregation expression, as update pipelines use them; `$$name` reads a `$map` variable. */
function evaluate(expression: unknown, doc: Document, vars: Record<string, unknown> = {}): unknown {
  if (typeof expression === 'string' && expression.startsWith('$$')) {
    const [name = '', ...path] = expression.slice(2).split('.');
    const value = vars[name];
    return path.length === 0 ? value : (get(value as Document, path.join('.')) ?? null);
  }
  if (typeof expression === 'string' && expression.startsWith('$')) {
    const value = get(doc, expression.slice(1));
    return value === undefined ? MISSING : value;
  }
  // An array literal's elements are expressions too (`[{ $literal: id }]`).
  if (Array.isArray(expression)) return expression.map((item) => present(evaluate(item, doc, vars)));
  if (!isPlainObject(expression)) return expression;
  const [operator, operand] = Object.entries(expression)[0] ?? [];
  // An object of fields, each an expression of its own (a missing one is left out).
  if (operator !== undefined && !operator.startsWith('$'))
    return Object.fromEntries(
      Object.entries(expression)
        .map(([key, value]) => [key, evaluate(value, doc, vars)])
        .filter(([, value]) => value !== MISSING),
    );
  const args = () => (operand as unknown[]).map((item) => present(evaluate(item, doc, vars)));
  switch (operator) {
    case '$literal':
      return operand;
    case '$cond': {
      const [test, then, otherwise] = operand as unknown[];
      return present(evaluate(test, doc, vars)) ? evaluate(then, doc, vars) : evaluate(otherwise, doc, vars);
    }
    case '$eq': {
      const [a, b] = args();
      return equal(a, b);
    }
    case '$ne': {
      const [a, b] = args();
      return !equal(a, b);
    }
    case '$gte': {
      const [a, b] = args();
      return compare(a, b) >= 0;
    }
    case '$and':
      return args().every(Boolean);
    case '$ifNull': {
      const [value, fallback] = args();
      return value === null || value === undefined ? fallback : value;
    }
    case '$add':
      return (args() as number[]).reduce((sum, value) => sum + value, 0);
    case '$concatArrays':
      return (args() as unknown[][]).flat(1);
    case '$concat':
      return (args() as string[]).join('');
    case '$toString':
      return String(present(evaluate(operand, doc, vars)));
    case '$in': {
      const [item, list] = args();
      return (list as unknown[]).some((candidate) => equal(candidate, item));
    }
    case '$map': {
      const { input, as, in: body } = operand as { input: unknown; as: string; in: unknown };
      const list = evaluate(input, doc, vars);
      if (list === null || list === undefined) return null;
      return (list as unknown[]).map((item) => evaluate(body, doc, { ...vars, [as]: item }));
    }
    case '$mergeObjects':
      return Object.assign({}, ...(args() as Document[]));
    case '$type': {
      const value = evaluate(operand, doc, vars);
      if (value === MISSING) return 'missing';
      return value instanceof Date ? 'date' : value === null || value === undefined ? 'null' : typeof value;
    }
    case '$max':
      return Math.max(...(args().map(comparable) as number[]));
    case '$subtract': {
      const [a, b] = args();
      return (comparable(a) as number) - (comparable(b) as number);
    }
    default:
      throw new Error(`fake-mongo: expression ${String(operator)} is not supported`);
  }
}

function applyUpdate(doc: Document, update: Document | Document[]): void {
  if (Array.isArray(update)) {
    for (const stage of update) {
      if (stage.$set) {
        const values = Object.entries(stage.$set as Document).map(([path, value]) => [
          path,
          evaluate(value, doc),
        ]);
        for (const [path, value] of values) {
          if (value === MISSING) unset(doc, path as string);
          else set(doc, path as string, value);
        }
      } else if (stage.$unset) {
        for (const path of [stage.$unset].flat() as string[]) unset(doc, path);
      } else throw new Error(`fake-mongo: pipeline stage ${Object.keys(stage)[0]} is not supported`);
    }
    return;
  }
  for (const [operator, fields] of Object.entries(update)) {
    for (const [path, value] of Object.entries(fields as Document)) {
      const current = get(doc, path);
      switch (operator) {
        case '$set':
          set(doc, path, structuredClone(value));
          break;
        case '$unset':
          unset(doc, path);
          break;
        case '$inc':
          set(doc, path, ((current as number | undefined) ?? 0) + (value as number));
          break;
        case '$addToSet': {
          const list = (current as unknown[] | undefined) ?? [];
          if (!list.some((item) => equal(item, value))) set(doc, path, [...list, value]);
          break;
        }
        case '$pull': {
          // A condition on documents (`{ _id: { $in: … } }`) matches each element as a query would.
          const pulled = (item: unknown) =>
            isPlainObject(value) && isPlainObject(item) ? matcher(value)(item) : equal(item, value);
          set(
            doc,
            path,
            ((current as unknown[] | undefined) ?? []).filter((item) => !pulled(item)),
          );
          break;
        }
        case '$push': {
          const { $each, $slice } =
            isPlainObject(value) && '$each' in value
              ? (value as { $each: unknown[]; $slice?: number })
              : { $each: [value], $slice: undefined };
          const list = [...((current as unknown[] | undefined) ?? []), ...$each];
          set(doc, path, $slice === undefined ? list : list.slice($slice));
          break;
        }
        default:
          throw new Error(`fake-mongo: update operator ${operator} is not supported`);
      }
    }
  }
}

function duplicateKey(index: string): Error {
  return Object.assign(new Error(`E11000 duplicate key error index: ${index}`), { code: 11000 });
}

/** A unique index: the key of a document, or undefined when the document is not in the index. */
export type UniqueIndex = { name: string; key: (doc: Document) => string | undefined };

export class FakeCollection {
  readonly docs: Document[] = [];
  readonly calls: string[] = [];
  #failures = new Map<string, Error[]>();
  #interludes: { methods: string[]; run: () => Promise<void> }[] = [];

  constructor(
    readonly name: string,
    private readonly unique: UniqueIndex[] = [],
  ) {}

  /** The next call of `method` fails with `error` (a dropped connection by default), before doing anything. */
  failNext(method: string, error: Error = new Error(`connection lost during ${method}`)): void {
    this.#failures.set(method, [...(this.#failures.get(method) ?? []), error]);
  }

  /**
   * Before the next call of any of `methods`, run `interlude` to its end (its own calls do not set
   * it off): what other instances do while this caller is held up between two steps.
   */
  beforeNext(methods: string[], interlude: () => Promise<void>): void {
    this.#interludes.push({ methods, run: interlude });
  }

  #enter(method: string): void {
    this.calls.push(method);
    const failure = this.#failures.get(method)?.shift();
    if (failure) throw failure;
  }

  async #enterAsync(method: string): Promise<void> {
    const interlude = this.#interludes.find((candidate) => candidate.methods.includes(method));
    if (interlude) {
      this.#interludes.splice(this.#interludes.indexOf(interlude), 1);
      await interlude.run();
    }
    this.#enter(method);
  }

  #checkUnique(candidate: Document, except?: Document): void {
    for (const index of [{ name: '_id', key: (doc: Document) => String(doc._id) }, ...this.unique]) {
      const key = index.key(candidate);
      if (key === undefined) continue;
      if (this.docs.some((doc) => doc !== except && index.key(doc) === key)) throw duplicateKey(index.name);
    }
  }

  #sorted(filter: Document, sort?: Document): Document[] {
    const found = this.docs.filter(matcher(filter));
    if (sort)
      found.sort((a, b) => {
        for (const [path, direction] of Object.entries(sort)) {
          const order = compare(get(a, path), get(b, path)) * (direction as number);
          if (order !== 0) return order;
        }
        return 0;
      });
    return found;
  }

  find(filter: Document = {}, _options?: Document) {
    this.#enter('find');
    let sort: Document | undefined;
    let limit = Number.POSITIVE_INFINITY;
    const cursor = {
      sort: (by: Document) => {
        sort = by;
        return cursor;
      },
      limit: (count: number) => {
        limit = count;
        return cursor;
      },
      toArray: async () =>
        this.#sorted(filter, sort)
          .slice(0, limit)
          .map((doc) => structuredClone(doc)),
    };
    return cursor;
  }

  async findOne(filter: Document, options: Document = {}): Promise<Document | null> {
    await this.#enterAsync('findOne');
    const found = this.#sorted(filter, options.sort)[0];
    return found ? structuredClone(found) : null;
  }

  async countDocuments(filter: Document, options: { limit?: number } = {}): Promise<number> {
    await this.#enterAsync('countDocuments');
    return Math.min(this.docs.filter(matcher(filter)).length, options.limit ?? Number.POSITIVE_INFINITY);
  }

  async insertOne(doc: Document): Promise<{ insertedId: unknown }> {
    await this.#enterAsync('insertOne');
    this.#checkUnique(doc);
    this.docs.push(structuredClone(doc));
    return { insertedId: doc._id };
  }

  /**
   * Ordered by default: the first duplicate stops the batch. With `ordered: false` every document
   * is tried and the duplicates are reported together, as the server's bulk write error does.
   */
  async insertMany(
    docs: Document[],
    options: { ordered?: boolean } = {},
  ): Promise<{ insertedCount: number }> {
    await this.#enterAsync('insertMany');
    const writeErrors: { index: number; code: number; errmsg: string }[] = [];
    for (const [index, doc] of docs.entries()) {
      try {
        this.#checkUnique(doc);
      } catch (error) {
        if (options.ordered !== false) throw error;
        writeErrors.push({ index, code: 11000, errmsg: (error as Error).message });
        continue;
      }
      this.docs.push(structuredClone(doc));
    }
    if (writeErrors.length > 0)
      throw Object.assign(new Error(`E11000 duplicate key error (${writeErrors.length} documents)`), {
        code: 11000,
        writeErrors,
      });
    return { insertedCount: docs.length };
  }

  #update(doc: Document, update: Document | Document[]): void {
    const next = structuredClone(doc);
    applyUpdate(next, update);
    this.#checkUnique(next, doc);
    for (const key of Object.keys(doc)) delete doc[key];
    Object.assign(doc, next);
  }

  async updateOne(filter: Document, update: Document | Document[]): Promise<{ matchedCount: number }> {
    await this.#enterAsync('updateOne');
    const doc = this.docs.find(matcher(filter));
    if (!doc) return { matchedCount: 0 };
    this.#update(doc, update);
    return { matchedCount: 1 };
  }

  async updateMany(filter: Document, update: Document): Promise<{ matchedCount: number }> {
    await this.#enterAsync('updateMany');
    const docs = this.docs.filter(matcher(filter));
    for (const doc of docs) this.#update(doc, update);
    return { matchedCount: docs.length };
  }

  async findOneAndUpdate(
    filter: Document,
    update: Document | Document[],
    options: Document = {},
  ): Promise<Document | null> {
    await this.#enterAsync('findOneAndUpdate');
    const doc = this.#sorted(filter, options.sort)[0];
    if (!doc) return null;
    const before = structuredClone(doc);
    this.#update(doc, update);
    return structuredClone(options.returnDocument === 'after' ? doc : before);
  }

  async findOneAndDelete(filter: Document): Promise<Document | null> {
    await this.#enterAsync('findOneAndDelete');
    const index = this.docs.findIndex(matcher(filter));
    if (index === -1) return null;
    return this.docs.splice(index, 1)[0] ?? null;
  }

  async deleteOne(filter: Document): Promise<{ deletedCount: number }> {
    await this.#enterAsync('deleteOne');
    const index = this.docs.findIndex(matcher(filter));
    if (index !== -1) this.docs.splice(index, 1);
    return { deletedCount: index === -1 ? 0 : 1 };
  }

  async deleteMany(filter: Document): Promise<{ deletedCount: number }> {
    await this.#enterAsync('deleteMany');
    const keep = this.docs.filter((doc) => !matcher(filter)(doc));
    const deleted = this.docs.length - keep.length;
    this.docs.splice(0, this.docs.length, ...keep);
    return { deletedCount: deleted };
  }

  async createIndexes(): Promise<string[]> {
    return [];
  }
}

/** The store's collections (prefix `cronkeeper_`) with the unique indexes that decide its races. */
export function fakeDatabase() {
  const jobs = new FakeCollection('cronkeeper_jobs', [
    { name: 'job_name_unique', key: (doc) => JSON.stringify([doc.tenantId, doc.name]) },
  ]);
  const runs = new FakeCollection('cronkeeper_runs', [
    {
      name: 'run_slot_unique',
      key: (doc) => (typeof doc.dedupeKey === 'string' ? doc.dedupeKey : undefined),
    },
    {
      name: 'run_exclusive_running_unique',
      key: (doc) =>
        doc.status === 'running' && doc.exclusive === true ? String(doc.concurrencyKey) : undefined,
    },
    {
      name: 'run_active_gate_unique',
      key: (doc) => (doc.activeKey === undefined ? undefined : String(doc.activeKey)),
    },
  ]);
  const others = new Map<string, FakeCollection>();
  const db = {
    collection(name: string) {
      if (name === jobs.name) return jobs;
      if (name === runs.name) return runs;
      let other = others.get(name);
      if (!other) {
        other = new FakeCollection(name);
        others.set(name, other);
      }
      return other;
    },
    async command() {
      return { isWritablePrimary: true };
    },
  };
  return { db: db as unknown as MongoDbLike, jobs, runs };
}
