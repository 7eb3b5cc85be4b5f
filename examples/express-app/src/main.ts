/**
 * Start the example server: `npm start -- --port 3000` (default 3000; `--port 0` picks a free one).
 * Prints the API and dashboard URLs; Ctrl-C stops it cleanly.
 */
import { startExampleApp } from './app.js';

function portArgument(argv: readonly string[]): number {
  const index = argv.indexOf('--port');
  const inline = argv.find((arg) => arg.startsWith('--port='))?.slice('--port='.length);
  const value = inline ?? (index >= 0 ? argv[index + 1] : undefined) ?? process.env.PORT ?? '3000';
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    console.error(`--port must be a number from 0 to 65535, got "${value}"`);
    process.exit(2);
  }
  return port;
}

const app = await startExampleApp({ port: portArgument(process.argv.slice(2)) });
console.log(`Example app listening on ${app.url}`);
console.log(`API:       ${app.apiUrl}  (Authorization: Bearer admin-token)`);
console.log(`Dashboard: ${app.loginUrl}`);

const shutdown = async () => {
  await app.close();
  process.exit(0);
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
