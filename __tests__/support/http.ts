/**
 * Small pieces shared by the HTTP stand-ins: body reading, JSON replies, request logs, injected faults.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { gunzipSync } from 'node:zlib'

/** One handled request, for assertions such as "no POST happened". */
export interface LoggedRequest {
  method: string
  /** Path and query as requested. */
  path: string
  status: number
}

/** A canned failure a test asks the next matching requests to get. */
export interface Fault {
  /** HTTP method to match (any when omitted). */
  method?: string
  /** Matched against the path without the query string. */
  path: RegExp
  status: number
  /** JSON-encoded unless it is a string or Buffer. */
  body?: unknown
  headers?: Record<string, string>
  /** How many matching requests fail (default 1). */
  times?: number
}

/** Keeps the injected faults and hands out the first one matching a request. */
export class FaultList {
  private readonly faults: { fault: Fault; left: number }[] = []

  add(fault: Fault): void {
    this.faults.push({ fault, left: fault.times ?? 1 })
  }

  /** Ends every injected fault (the outage is over). */
  clear(): void {
    this.faults.length = 0
  }

  take(method: string, path: string): Fault | undefined {
    const hit = this.faults.find(
      f =>
        f.left > 0 && (!f.fault.method || f.fault.method.toUpperCase() === method) && f.fault.path.test(path)
    )
    if (hit) hit.left--
    return hit?.fault
  }
}

export function sendFault(res: http.ServerResponse, fault: Fault, baseHeaders: Record<string, string>): void {
  const raw = fault.body
  const isText = typeof raw === 'string' || Buffer.isBuffer(raw)
  const body = raw === undefined ? '' : isText ? raw : JSON.stringify(raw)
  const type = isText ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8'
  res.writeHead(fault.status, { ...baseHeaders, 'content-type': type, ...fault.headers })
  res.end(body)
}

/** Reads a whole request body, undoing `Content-Encoding: gzip`. */
export async function readBody(req: http.IncomingMessage, limit = 64 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    const buf = chunk as Buffer
    size += buf.length
    if (size > limit) throw new Error(`request body over ${limit} bytes`)
    chunks.push(buf)
  }
  const body = Buffer.concat(chunks)
  return req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body
}

/** Parses a JSON or form-encoded request body into a plain object (empty object when there is none). */
export function parseRequestObject(
  req: http.IncomingMessage,
  body: Buffer
): Record<string, unknown> | undefined {
  if (body.length === 0) return {}
  const type = req.headers['content-type'] ?? ''
  if (type.startsWith('application/x-www-form-urlencoded')) {
    return Object.fromEntries(new URLSearchParams(body.toString('utf8')))
  }
  try {
    const value: unknown = JSON.parse(body.toString('utf8'))
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

export function sendJson(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {}
): void {
  const text = body === undefined ? '' : JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', ...headers })
  res.end(text)
}

/** Starts listening on a free loopback port. */
export async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  return (server.address() as AddressInfo).port
}

/** Stops a server, dropping idle keep-alive connections so close() does not wait for them. */
export async function closeServer(server: http.Server): Promise<void> {
  const done = new Promise<void>(resolve => server.close(() => resolve()))
  server.closeAllConnections()
  await done
}

/**
 * Wraps an async handler: a thrown error becomes a 500 (never an unhandled rejection) and every request
 * is logged once the response is finished.
 */
export function handler(
  log: LoggedRequest[],
  handle: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>
): http.RequestListener {
  return (req, res) => {
    res.on('finish', () =>
      log.push({ method: req.method ?? 'GET', path: req.url ?? '/', status: res.statusCode })
    )
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy()
        return
      }
      res.writeHead(500, { 'content-type': 'text/plain' })
      res.end(`stand-in error: ${err instanceof Error ? err.message : String(err)}`)
    })
  }
}

/** Splits `a, b` Link header values into rel → URL. */
export function parseLinkHeader(value: string | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const m of (value ?? '').matchAll(/<([^>]*)>;\s*rel="([^"]+)"/g)) out[m[2]] = m[1]
  return out
}
