import { defineExecutor, type TypedJobInput } from '@cronkeeper/core';
import { z } from 'zod';

/** Where reminders go; the app passes its mailer, tests pass an array. */
export interface Outbox {
  send(to: string, text: string): void | Promise<void>;
}

/** The app's executors: a reminder to customers whose invoice is overdue by `days`. */
export function reminderExecutors(outbox: Outbox) {
  return {
    'invoices.remind': defineExecutor({
      description: 'Reminds customers of overdue invoices',
      params: z.object({ days: z.number().int().min(1), customers: z.array(z.string()) }),
      retry: { limit: 1, backoff: { type: 'fixed', delay: '10m' } },
      run: async ({ params, log }) => {
        for (const customer of params.customers) {
          await outbox.send(customer, `Your invoice is ${params.days} days overdue.`);
          log.info(`reminded ${customer}`);
        }
        return { reminded: params.customers.length };
      },
    }),
  };
}

/** The reminder job: every morning at 09:00 Paris time; its executor and params are type-checked. */
export const REMINDER_JOB = {
  name: 'overdue-reminders',
  schedule: '0 9 * * *',
  timezone: 'Europe/Paris',
  executor: 'invoices.remind',
  params: { days: 30, customers: ['ada@example.com', 'alan@example.com'] },
} satisfies TypedJobInput<ReturnType<typeof reminderExecutors>>;
