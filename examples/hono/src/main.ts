/**
 * Start the example: `pnpm start` (PORT, default 3000; HEARTBEAT_SECRET, default `change-me`).
 * Prints the API and dashboard URLs; Ctrl-C stops it cleanly.
 */
import { startExampleApp } from './app.js';

const app = await startExampleApp({
  port: Number(process.env.PORT ?? 3000),
  heartbeatSecret: process.env.HEARTBEAT_SECRET ?? 'change-me',
});
console.log(`Example app listening on ${app.url}`);
console.log(`API:       ${app.apiUrl}  (Authorization: Bearer admin-token)`);
console.log(`Dashboard: ${app.loginUrl}`);

const shutdown = async () => {
  await app.close();
  process.exit(0);
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
