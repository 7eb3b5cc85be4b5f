import { z } from 'zod';
import { jsonResponse } from './errors.js';
import { defineRoute, type RouteDef } from './routing.js';

const errorEnvelope = z.strictObject({
  error: z.strictObject({
    code: z.string().meta({ description: 'stable code: VALIDATION, NOT_FOUND, CONFLICT, RATE_LIMITED, …' }),
    message: z.string(),
    details: z.record(z.string(), z.unknown()),
  }),
});

type JsonSchema = Record<string, unknown>;

function jsonSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
  }) as JsonSchema;
  return rest;
}

const ERROR_STATUSES: Record<string, string> = {
  '400': 'invalid input; `details.issues` names each field',
  '401': 'not signed in',
  '403': 'not allowed, outside the caller’s tenant, or a cross-site change',
  '404': 'no such job, run or executor in the caller’s tenant',
  '409': 'conflict: a run already due or running (`details.runningRunId`), name taken, run already ended',
  '405': 'known path, other method (see `Allow`)',
  '413': 'body too large',
  '415': 'a change sent without `Content-Type: application/json`',
  '429': 'over a manual-trigger limit; see `Retry-After`',
  '500': 'an unexpected failure (reported to `onError`; the answer says no more)',
  '503': 'the scheduler store is unavailable; try again shortly',
};

function parametersOf(route: RouteDef): JsonSchema[] {
  const parameters: JsonSchema[] = [];
  const add = (where: 'path' | 'query', schema: z.ZodType | undefined) => {
    if (!(schema instanceof z.ZodObject)) return;
    for (const [name, field] of Object.entries(schema.shape as Record<string, z.ZodType>)) {
      parameters.push({
        name,
        in: where,
        required: where === 'path' || !field.safeParse(undefined).success,
        schema: jsonSchema(field),
      });
    }
  };
  add('path', route.params);
  add('query', route.query);
  if (route.ifMatch)
    parameters.push({
      name: 'If-Match',
      in: 'header',
      required: false,
      description: "the job's `ETag` as read: the write is refused with 409 if the job changed since",
      schema: { type: 'string' },
    });
  return parameters;
}

/** A `{ data }` answer of `route`, typed by its response schema. */
function dataContent(route: RouteDef): JsonSchema {
  return {
    'application/json': {
      schema: {
        type: 'object',
        required: ['data'],
        properties: { data: route.response ? jsonSchema(route.response) : {} },
      },
    },
  };
}

/** The OpenAPI 3.1 document of the routes, built from the zod schemas they validate with. */
export function openApiDocument(routes: readonly RouteDef[], info: { title: string; version: string }) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    if (route.hidden) continue;
    const path = route.path.replace(/:([A-Za-z]+)/g, '{$1}');
    const status = String(route.status ?? 200);
    const headers = route.responseHeaders
      ? {
          headers: Object.fromEntries(
            Object.entries(route.responseHeaders).map(([name, description]) => [
              name,
              { description, schema: { type: 'string' } },
            ]),
          ),
        }
      : {};
    const responses: Record<string, unknown> = {
      [status]: route.raw
        ? {
            description: route.summary,
            content: {
              [route.raw.contentType]:
                route.raw.contentType === 'application/json' ? { schema: { type: 'object' } } : {},
            },
          }
        : { description: 'success: `{ data }`', ...headers, content: dataContent(route) },
    };
    // The route's other answers (PUT's 201, health's 503) carry the same `{ data }` as its success.
    for (const [code, description] of Object.entries(route.otherStatuses ?? {})) {
      responses[code] = { description, ...(Number(code) < 300 ? headers : {}), content: dataContent(route) };
    }
    for (const [code, description] of Object.entries(ERROR_STATUSES)) {
      // A route's own meaning of a status (health's 503) comes first.
      responses[code] ??= {
        description,
        content: { 'application/json': { schema: jsonSchema(errorEnvelope) } },
      };
    }
    paths[path] ??= {};
    (paths[path] as Record<string, unknown>)[route.method] = {
      operationId: `${route.method}${route.path.replace(/[/:-]+(\w)/g, (_m, c: string) => c.toUpperCase())}`,
      tags: [route.tag],
      summary: route.summary,
      'x-cronkeeper-action': route.action,
      parameters: parametersOf(route),
      ...(route.body
        ? {
            requestBody: {
              required: false,
              content: { 'application/json': { schema: jsonSchema(route.body) } },
            },
          }
        : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      ...info,
      description:
        'Cronkeeper HTTP API. Every JSON answer is `{ data }` or `{ error: { code, message, details } }` (this document excepted). Paths are relative to where the API is mounted. Every change (POST, PUT, PATCH, DELETE) must be sent with `Content-Type: application/json`.',
    },
    servers: [{ url: '.' }],
    paths,
  };
}

/**
 * `GET /openapi.json`: the document itself (not inside `{ data }`), so Swagger UI, Redoc and client
 * generators can load the URL. Built on first use from the routes `routes()` returns.
 */
export function openApiRoute(routes: () => readonly RouteDef[]): RouteDef {
  let document: string | null = null;
  return defineRoute({
    method: 'get',
    path: '/openapi.json',
    action: 'openapi:read',
    tag: 'meta',
    summary: 'This API described as OpenAPI 3.1, from the zod schemas it validates with',
    raw: { contentType: 'application/json' },
    handle: async () => {
      document ??= JSON.stringify(openApiDocument(routes(), { title: 'Cronkeeper', version: '1' }));
      return jsonResponse(200, null, {}, document);
    },
  });
}
