/**
 * Validates response bodies against GitHub's published OpenAPI description (the newest GHES one in
 * @octokit/openapi), so the stand-in cannot drift from the real shapes.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { Ajv, type ValidateFunction } from 'ajv'
import formatsModule from 'ajv-formats'

type Json = Record<string, unknown>

// ajv-formats is CommonJS with a `default` property; unwrap it under ESM.
const addFormats = ((formatsModule as unknown as { default?: unknown }).default ?? formatsModule) as (
  ajv: Ajv
) => Ajv

/** The newest `ghes-X.Y.json` shipped with @octokit/openapi. */
export function newestGhesDescription(): string {
  const dir = path.join(
    path.dirname(createRequire(import.meta.url).resolve('@octokit/openapi/package.json')),
    'generated'
  )
  const versions = readdirSync(dir)
    .map(f => /^ghes-(\d+)\.(\d+)\.json$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .sort((a, b) => Number(a[1]) - Number(b[1]) || Number(a[2]) - Number(b[2]))
  const newest = versions.at(-1)
  if (!newest) throw new Error(`no ghes-*.json in ${dir}`)
  return path.join(dir, newest[0])
}

/**
 * Rewrites local `#/...` references so they point into the registered description, and turns OpenAPI 3.0
 * `nullable: true` into an explicit `null` alternative (ajv only accepts `nullable` beside `type`).
 */
function prepare(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(prepare)
  if (typeof schema !== 'object' || schema === null) return schema
  const out: Json = {}
  for (const [k, v] of Object.entries(schema as Json)) {
    if (k === 'nullable') continue
    out[k] = k === '$ref' && typeof v === 'string' && v.startsWith('#') ? `github${v}` : prepare(v)
  }
  return (schema as Json).nullable === true ? { anyOf: [out, { type: 'null' }] } : out
}

export class GitHubResponseValidator {
  private readonly ajv
  private readonly spec: Json
  private readonly cache = new Map<string, ValidateFunction | null>()

  constructor(file = newestGhesDescription()) {
    this.spec = JSON.parse(readFileSync(file, 'utf8')) as Json
    this.ajv = new Ajv({ strict: false, allErrors: true, logger: false })
    addFormats(this.ajv)
    this.ajv.addSchema({
      $id: 'github',
      components: { schemas: prepare((this.spec.components as Json).schemas) }
    })
  }

  private resolve(ref: string): Json {
    let node: unknown = this.spec
    for (const part of ref.replace(/^#\//, '').split('/')) {
      node = (node as Json)[part.replace(/~1/g, '/').replace(/~0/g, '~')]
    }
    return node as Json
  }

  /** The response schema of an operation, or null when it documents no JSON body for that status. */
  private schemaFor(method: string, route: string, status: number): ValidateFunction | null {
    const key = `${method} ${route} ${status}`
    if (this.cache.has(key)) return this.cache.get(key) ?? null
    const op = ((this.spec.paths as Json)[route] as Json | undefined)?.[method.toLowerCase()] as
      Json | undefined
    if (!op) throw new Error(`no operation ${method} ${route} in GitHub's description`)
    let response = (op.responses as Json)[String(status)] as Json | undefined
    if (!response) throw new Error(`${method} ${route} does not document status ${status}`)
    if (typeof response.$ref === 'string') response = this.resolve(response.$ref)
    const schema = ((response.content as Json | undefined)?.['application/json'] as Json | undefined)?.schema
    const compiled = schema ? this.ajv.compile(prepare(schema) as Json) : null
    this.cache.set(key, compiled)
    return compiled
  }

  /** The description's path template for a concrete API path (`/repos/a/b/pulls/1` → `/repos/{owner}/{repo}/pulls/{pull_number}`). */
  routeOf(method: string, apiPath: string): string | undefined {
    const routes = Object.keys(this.spec.paths as Json).filter(
      r => ((this.spec.paths as Json)[r] as Json)[method.toLowerCase()] !== undefined
    )
    const exact = routes.filter(r => !r.includes('{'))
    if (exact.includes(apiPath)) return apiPath
    return routes.find(r =>
      new RegExp(`^${r.replace(/\{ref\}|\{branch\}/g, '.+').replace(/\{[^}]+\}/g, '[^/]+')}$`).test(apiPath)
    )
  }

  /** Returns the validation errors (empty when the body matches). */
  validate(method: string, route: string, status: number, body: unknown): string[] {
    const check = this.schemaFor(method, route, status)
    if (!check) return []
    if (check(body)) return []
    return (check.errors ?? []).map(
      e => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`
    )
  }
}
