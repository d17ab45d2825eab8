/**
 * Tiny loopback HTTP servers for client tests: each records what it was asked, so a test can assert that
 * a request (and the headers it carried) never reached it.
 */
import http from 'node:http'
import { closeServer, listen } from '../support/http.js'

export interface SeenRequest {
  method: string
  url: string
  headers: http.IncomingHttpHeaders
}

export interface TinyServer {
  /** `http://127.0.0.1:<port>` */
  origin: string
  seen: SeenRequest[]
  close(): Promise<void>
}

export async function startServer(
  handle: (req: http.IncomingMessage, res: http.ServerResponse, seen: SeenRequest[]) => void
): Promise<TinyServer> {
  const seen: SeenRequest[] = []
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers })
    // A client that gives up mid-body resets the socket; that is expected here.
    res.on('error', () => undefined)
    req.resume()
    req.on('end', () => handle(req, res, seen))
  })
  const port = await listen(server)
  return { origin: `http://127.0.0.1:${port}`, seen, close: () => closeServer(server) }
}

/** An origin nothing listens on (a port that was free a moment ago). */
export async function deadOrigin(): Promise<string> {
  const server = http.createServer()
  const port = await listen(server)
  await closeServer(server)
  return `http://127.0.0.1:${port}`
}

/** Writes `chunk` again and again until the client goes away. */
export function streamForever(res: http.ServerResponse, chunk: Buffer, everyMs = 0): void {
  const timer = setInterval(() => {
    if (res.destroyed || res.writableEnded) clearInterval(timer)
    else res.write(chunk)
  }, everyMs)
  res.on('close', () => clearInterval(timer))
}

/** A sleep that returns at once, so retries cost no test time. */
export const noSleep = (): Promise<void> => Promise.resolve()

/** A sleep that only records how long it was asked to wait. */
export function recordingSleep(sleeps: number[]): (ms: number) => Promise<void> {
  return ms => {
    sleeps.push(ms)
    return Promise.resolve()
  }
}
