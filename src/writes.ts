/**
 * The one gate every write passes through (push, POST, PATCH, DELETE, Patchwork checks): it honours
 * `dry-run` by recording what would have happened, and keeps a per-run budget of writes so a flood of
 * series cannot trip GitHub's content-creation limits; what is left waits for the next run.
 */
import { BudgetExceeded } from './errors.js'

export class WriteBudgetExceeded extends BudgetExceeded {
  override name = 'WriteBudgetExceeded'
}

export class Writes {
  readonly planned: string[] = []
  readonly done: string[] = []

  constructor(
    readonly dryRun: boolean,
    private remaining: number = 200
  ) {}

  /** GitHub asked ml2pr to slow down: every further write this run is deferred to the next. */
  exhaust(): void {
    this.remaining = 0
  }

  /** Runs `write` unless this is a dry run; returns undefined when it was only planned. */
  async perform<T>(description: string, write: () => Promise<T>): Promise<T | undefined> {
    if (this.dryRun) {
      this.planned.push(description)
      return undefined
    }
    if (this.remaining <= 0)
      throw new WriteBudgetExceeded(
        `Write budget for this run is spent; left for the next run: ${description}`
      )
    this.remaining--
    const result = await write()
    this.done.push(description)
    return result
  }
}
