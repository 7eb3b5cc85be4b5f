// Preloaded with `node --import`: makes `vitest` unresolvable, as it is for an app that tests with
// node:test, jest or mocha and never installed it. Anything that imports vitest then fails to load.
import { register } from 'node:module';

const hooks = `
export async function resolve(specifier, context, next) {
  if (/^(vitest|@vitest\\/[^/]+)(\\/|$)/.test(specifier)) {
    const error = new Error('Cannot find package "' + specifier + '" (vitest is not installed in this app)');
    error.code = 'ERR_MODULE_NOT_FOUND';
    throw error;
  }
  return next(specifier, context);
}
`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);
