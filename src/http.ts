/**
 * Outbound HTTP to mail services (Patchwork, lore): every request has an overall deadline, a byte cap
 * that is enforced while streaming, and an origin it may not leave. undici's own timeouts measure the
 * gap between chunks, so a server dripping a byte a minute would never trip them; the deadline does.
 */
import { request } from 'undici'
import { createGunzip } from 'node:zlib'
import { Readable } from 'node:stream'

export interface HttpResponse {
  status: number
  headers: Record<string, string>
  body: Buffer
  url: string
}

export interface HttpOptions {
  method?: 'GET' | 'POST'
  headers?: Record<string, string>
  body?: string
  /** Bytes; the response is abandoned past this. */
  maxBytes?: number
  /** Milliseconds for the whole exchange, redirects included. */
  timeoutMs?: number
  /** Retries for network errors and 5xx on idempotent requests. */
  retries?: number
}

export class HttpError extends Error {
  override name = 'HttpError'
  constructor(
    message: string,
    readonly url: string,
    readonly status?: number,
    /** True when trying again later may succeed (network trouble, 5xx, deadline). */
    readonly transient = false
  ) {
    super(message)
  }
}

const USER_AGENT = 'ml2pr (+https://github.com/vfsci/ml2pr-action; patch series to pull requests)'
const MAX_REDIRECTS = 3

export class HttpClient {
  private readonly origins: Set<string>

  /** @param allowedOrigins the only origins requests (and redirects) may go to */
  constructor(
    allowedOrigins: string[],
    private readonly defaults: { timeoutMs: number; maxBytes: number } = {
      timeoutMs: 60_000,
      maxBytes: 64 << 20
    },
    private readonly sleep: (ms: number) => Promise<void> = ms => new Promise(r => setTimeout(r, ms))
  ) {
    this.origins = new Set(allowedOrigins.map(o => new URL(o).origin))
  }

  assertAllowed(url: string): URL {
    const parsed = new URL(url)
    if (!this.origins.has(parsed.origin)) {
      throw new HttpError(`Refusing to contact ${parsed.origin}: not a configured service origin`, url)
    }
    return parsed
  }

  async fetch(url: string, options: HttpOptions = {}): Promise<HttpResponse> {
    const method = options.method ?? 'GET'
    const retries = options.retries ?? (method === 'GET' ? 2 : 0)
    for (let attempt = 0; ; attempt++) {
      try {
        const response = await this.once(url, options)
        if (response.status >= 500 && attempt < retries) {
          await this.sleep(500 * 4 ** attempt)
          continue
        }
        return response
      } catch (error) {
        if (error instanceof HttpError && error.transient && attempt < retries) {
          await this.sleep(500 * 4 ** attempt)
          continue
        }
        throw error
      }
    }
  }

  private async once(url: string, options: HttpOptions): Promise<HttpResponse> {
    const timeoutMs = options.timeoutMs ?? this.defaults.timeoutMs
    const maxBytes = options.maxBytes ?? this.defaults.maxBytes
    const signal = AbortSignal.timeout(timeoutMs)
    let current = url
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      this.assertAllowed(current)
      let res
      try {
        res = await request(current, {
          method: options.method ?? 'GET',
          headers: { 'user-agent': USER_AGENT, ...options.headers },
          body: options.body,
          signal,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs
        })
      } catch (error) {
        throw new HttpError(
          `${options.method ?? 'GET'} ${current} failed: ${describe(error)}`,
          current,
          undefined,
          true
        )
      }
      const headers = flattenHeaders(res.headers)
      if (res.statusCode >= 300 && res.statusCode < 400 && headers.location) {
        await res.body.dump()
        current = new URL(headers.location, current).toString()
        continue
      }
      const body = await readCapped(res.body, maxBytes, current, signal)
      return { status: res.statusCode, headers, body, url: current }
    }
    throw new HttpError(`Too many redirects from ${url}`, url)
  }
}

async function readCapped(
  stream: AsyncIterable<Buffer>,
  maxBytes: number,
  url: string,
  signal: AbortSignal
): Promise<Buffer> {
  const chunks: Buffer[] = []
  let total = 0
  try {
    for await (const chunk of stream) {
      total += chunk.length
      if (total > maxBytes) throw new HttpError(`Response from ${url} exceeds ${maxBytes} bytes`, url)
      chunks.push(chunk)
    }
  } catch (error) {
    if (error instanceof HttpError) throw error
    const reason = signal.aborted ? 'deadline exceeded' : describe(error)
    throw new HttpError(`Reading ${url} failed: ${reason}`, url, undefined, true)
  }
  return Buffer.concat(chunks)
}

/** Inflates gzip data, refusing to produce more than maxBytes (a small download can be a bomb). */
export async function gunzipCapped(data: Buffer, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let total = 0
  const gunzip = Readable.from([data]).pipe(createGunzip())
  for await (const chunk of gunzip as AsyncIterable<Buffer>) {
    total += chunk.length
    if (total > maxBytes) {
      gunzip.destroy()
      throw new Error(`Decompressed data exceeds ${maxBytes} bytes`)
    }
    chunks.push(chunk)
  }
  return Buffer.concat(chunks)
}

export function isGzip(data: Buffer): boolean {
  return data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value
  }
  return flat
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as Error & { cause?: unknown }).cause
    return cause instanceof Error ? `${error.message} (${cause.message})` : error.message
  }
  return String(error)
}

/** Parses an RFC 8288 `Link` header into rel → URL. */
export function parseLinkHeader(header: string | undefined): Record<string, string> {
  const links: Record<string, string> = {}
  if (!header) return links
  for (const part of header.split(/,(?=\s*<)/)) {
    const match = /<([^>]*)>\s*;\s*rel="?([^";]+)"?/.exec(part)
    if (match) links[match[2]] = match[1]
  }
  return links
}
