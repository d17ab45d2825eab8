/**
 * lore.kernel.org (public-inbox) client: thread mboxes and search results, both gzip'd mboxrd.
 * lore sits behind a bot challenge that answers `200 text/html`; a body that is not gzip is therefore a
 * transient failure, never "no mails".
 */
import { HttpClient, HttpError, gunzipCapped, isGzip } from '../http.js'

const MAX_MBOX_BYTES = 64 << 20

export class LoreError extends Error {
  override name = 'LoreError'
  constructor(
    message: string,
    readonly transient: boolean
  ) {
    super(message)
  }
}

/** Message-IDs go into URL paths percent-encoded (`/` must become %2F); `@` stays readable. */
export function encodeMsgid(msgid: string): string {
  return encodeURIComponent(msgid).replace(/%40/g, '@')
}

export function messageUrl(loreUrl: string, list: string, msgid: string): string {
  return `${loreUrl}/${list}/${encodeMsgid(msgid)}`
}

export class Lore {
  constructor(
    private readonly http: HttpClient,
    private readonly baseUrl: string
  ) {}

  /** The whole thread holding `msgid` as mboxrd, or undefined when lore does not know the message. */
  async thread(list: string, msgid: string): Promise<Buffer | undefined> {
    const url = `${messageUrl(this.baseUrl, list, msgid)}/t.mbox.gz`
    const res = await this.get(url, { method: 'GET' })
    if (res.status === 404) return undefined
    return this.unpack(url, res.status, res.body)
  }

  /**
   * Messages matching a public-inbox search, as mboxrd. An empty POST body asks for the matches only
   * (a body starting `x=` would expand every hit to its whole thread).
   */
  async search(list: string, query: string): Promise<Buffer> {
    const url = `${this.baseUrl}/${list}/?${new URLSearchParams({ q: query, x: 'm' }).toString()}`
    const res = await this.get(url, { method: 'POST', body: '' })
    if (res.status === 404) {
      // public-inbox says "No results found"; any other 404 (an unknown inbox) must not pass for "no mails".
      if (res.body.toString('utf8', 0, 16) === 'No results found') return Buffer.alloc(0)
      throw new LoreError(`${url} answered 404: is '${list}' an inbox on ${this.baseUrl}?`, false)
    }
    return this.unpack(url, res.status, res.body)
  }

  private async get(
    url: string,
    options: { method: 'GET' | 'POST'; body?: string }
  ): ReturnType<HttpClient['fetch']> {
    try {
      return await this.http.fetch(url, { ...options, maxBytes: MAX_MBOX_BYTES, retries: 2 })
    } catch (error) {
      const transient = error instanceof HttpError && error.transient
      throw new LoreError((error as Error).message, transient)
    }
  }

  private async unpack(url: string, status: number, body: Buffer): Promise<Buffer> {
    if (status !== 200) throw new LoreError(`${url} answered ${status}`, status >= 500 || status === 429)
    if (!isGzip(body)) {
      throw new LoreError(
        `${url} did not return gzip data (a bot challenge page?); will try again next run`,
        true
      )
    }
    try {
      return await gunzipCapped(body, MAX_MBOX_BYTES)
    } catch (error) {
      throw new LoreError(`${url}: ${(error as Error).message}`, false)
    }
  }
}
