import { EMPTY_STATE, type RunState, type StateStore } from '../../src/discover/state.js'

/** The run state kept in memory, with the same lease semantics as the state ref (a stale save fails). */
export class MemoryState implements StateStore {
  state: RunState = { ...EMPTY_STATE, pending: [], failed: [] }
  private version = 0

  load(): Promise<{ state: RunState; version: string | null }> {
    return Promise.resolve({ state: structuredClone(this.state), version: String(this.version) })
  }

  save(state: RunState, version: string | null): Promise<boolean> {
    if (version !== String(this.version)) return Promise.resolve(false)
    this.state = structuredClone(state)
    this.version++
    return Promise.resolve(true)
  }
}
