// ioredis 6 ships declarations that import the untyped `redis-errors`; with skipLibCheck off (so
// Cronkeeper's own declarations are checked too) that is an error in ioredis, not here.
declare module 'redis-errors';
