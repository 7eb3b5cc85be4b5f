import type { JobInput, OverlapPolicy } from '@cronkeeper/core';
import { z } from 'zod';

/** A `CronConfig` document: a schedule running several scripts, each enabled or not. */
export const cronConfigSchema = z.looseObject({
  _id: z.unknown().optional(),
  name: z.string().trim().min(1),
  schedule: z.string().trim().min(1),
  description: z.string().nullish(),
  enabled: z.boolean().optional(),
  timezone: z.string().min(1).optional(),
  scripts: z
    .array(z.looseObject({ name: z.string().trim().min(1), enabled: z.boolean().optional() }))
    .optional(),
});

/** A parsed `CronConfig` document. */
export type CronConfig = z.infer<typeof cronConfigSchema>;

/** How to convert. */
export interface ConvertOptions {
  /** Executors the scheduler has registered: a config naming any other script is skipped. */
  executors: readonly string[];
  /** @default 'allow' (the old cron ran a config whatever its scripts' status: runs could overlap) */
  overlap?: OverlapPolicy;
  /** Zone of configs without one: the zone the old server ran in. @default 'UTC' */
  timezone?: string;
}

/** One config converted to a job, or skipped with the reason. */
export type Conversion =
  | { ok: true; name: string; job: JobInput }
  | { ok: false; name: string; reason: string };

/** Configs whose job Cronkeeper does itself. */
export const REPLACED_CONFIGS: Readonly<Record<string, string>> = {
  'every-5-minutes':
    'it polled for scripts set to status 1; manual runs are now scheduler.trigger() (or POST /jobs/:name/trigger), run at once',
  'daily-cleanup-2am':
    'built in: jobs.seed() installs daily-cleanup-2am, which marks runs stuck running for 3 days as failed',
};

/** Convert one `CronConfig` document into the `JobInput` that `scheduler.jobs.seed` takes. */
export function convertCronConfig(doc: unknown, options: ConvertOptions): Conversion {
  const parsed = cronConfigSchema.safeParse(doc);
  if (!parsed.success) {
    const raw = (doc ?? {}) as { name?: unknown };
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    return {
      ok: false,
      name: typeof raw.name === 'string' ? raw.name : '(unnamed)',
      reason: `not a CronConfig document (${issues.join('; ')})`,
    };
  }
  const config = parsed.data;
  const replaced = REPLACED_CONFIGS[config.name];
  if (replaced) return { ok: false, name: config.name, reason: replaced };
  const scripts = config.scripts ?? [];
  if (scripts.length === 0) return { ok: false, name: config.name, reason: 'it has no scripts to run' };
  const missing = scripts.map((script) => script.name).filter((name) => !options.executors.includes(name));
  if (missing.length > 0) {
    return {
      ok: false,
      name: config.name,
      reason: `no executor is registered for ${missing.join(', ')}: register one per script and import again`,
    };
  }
  return {
    ok: true,
    name: config.name,
    job: {
      name: config.name,
      description: config.description ?? null,
      schedule: config.schedule,
      timezone: config.timezone ?? options.timezone ?? 'UTC',
      tasks: scripts.map((script) => ({ executor: script.name, enabled: script.enabled ?? true })),
      enabled: config.enabled ?? true,
      overlap: options.overlap ?? 'allow',
      metadata:
        config._id === undefined
          ? { importedFrom: 'CronConfig' }
          : { importedFrom: 'CronConfig', cronConfigId: String(config._id) },
      createdBy: 'mongo-import',
    },
  };
}

/** Convert a whole collection: the jobs to seed, and what was skipped and why (a repeated name is skipped). */
export function convertCronConfigs(
  docs: readonly unknown[],
  options: ConvertOptions,
): { jobs: JobInput[]; skipped: { name: string; reason: string }[] } {
  const jobs: JobInput[] = [];
  const skipped: { name: string; reason: string }[] = [];
  for (const doc of docs) {
    const conversion = convertCronConfig(doc, options);
    if (!conversion.ok) skipped.push({ name: conversion.name, reason: conversion.reason });
    else if (jobs.some((job) => job.name === conversion.name))
      skipped.push({ name: conversion.name, reason: 'another config has the same name' });
    else jobs.push(conversion.job);
  }
  return { jobs, skipped };
}
