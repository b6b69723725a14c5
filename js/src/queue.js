// queue.js: the write queue of one database (group commit). Writes are applied to the core in call
// order, one batch at a time: every write queued while the previous batch was committing joins the
// next batch. A write that fails (validation, or a refused state) rejects alone and changes nothing;
// the others are applied. Then one commit makes the whole batch durable (the core's flush = real
// fsync in Node; plus one IndexedDB transaction in the browser) and only then are the batch's
// promises resolved. A failed commit rejects every write of its batch. In relaxed mode a batch
// resolves once applied and a commit is scheduled instead, unless a write asked for durability
// (flush(), close()).
//
// The operations pushed here are closures over values already copied from the caller (convert.js),
// so running them later reads nothing the caller could have changed since the call.

export class WriteQueue {
  /**
   * @param {{ relaxed: boolean, commit: () => Promise<void>, scheduleCommit: () => void,
   *           beforeBatch: () => void }} hooks
   */
  constructor(hooks) {
    this.hooks = hooks;
    this.q = [];
    this.running = null;
  }

  /** Queues `apply` (run later, in order); resolves with its result once committed. */
  push(apply, force = false) {
    return new Promise((resolve, reject) => {
      this.q.push({ apply, force, resolve, reject });
      if (!this.running) this.running = this.run();
    });
  }

  /** Writes queued and not yet applied (a batch being committed is applied already). */
  get pending() { return this.q.length > 0; }

  async run() {
    await null; // let callers in the same tick join this batch
    try {
      while (this.q.length) {
        const batch = this.q.splice(0);
        const done = [];
        let force = false;
        this.hooks.beforeBatch();
        for (const op of batch) {
          if (op.marker) { op.resolve(); continue; }
          force = force || op.force;
          try { done.push([op, op.apply()]); } catch (e) { op.reject(e); }
        }
        if (!done.length) continue;
        try {
          if (!this.hooks.relaxed || force) await this.hooks.commit();
          else this.hooks.scheduleCommit();
        } catch (e) {
          for (const [op] of done) op.reject(e);
          continue;
        }
        for (const [op, v] of done) op.resolve(v);
      }
    } finally {
      this.running = null;
    }
  }

  /** Resolves once every write queued so far is applied (not necessarily committed). */
  applied() {
    if (!this.pending) return Promise.resolve();
    return new Promise((resolve) => {
      this.q.push({ marker: true, resolve });
      if (!this.running) this.running = this.run();
    });
  }

  /** Resolves once every write queued so far is applied and committed (errors stay the writes'). */
  drain() { return this.push(() => undefined, true).catch(() => undefined); }
}
