import type { Message } from './children.js';

type Handler = (message: Message) => Promise<Message | undefined> | Message | undefined;

/** In a child: answer the harness's commands; `exit` (or losing the harness) runs `onExit` and ends. */
export function serve(handlers: Record<string, Handler>, onExit: () => Promise<void>): void {
  let exiting = false;
  const exit = () => {
    if (exiting) return;
    exiting = true;
    void onExit().finally(() => process.exit(0));
  };
  process.on('message', (message: Message) => {
    if (message.type === 'exit') return exit();
    const handler = handlers[message.type];
    if (!handler) return;
    Promise.resolve(handler(message)).then(
      (answer) => answer && process.send?.(answer),
      (error: unknown) => process.send?.({ type: 'error', message: String(error) }),
    );
  });
  // Orphaned (the harness died): do not linger holding connections.
  process.on('disconnect', exit);
}

/** In a child: send one message to the harness. */
export function reply(message: Message): void {
  process.send?.(message);
}
