// queue.js: the write queue of one database (group commit). Writes are applied to the core in call
// order, one batch at a time: every write queued while the previous batch was committing joins the
// next batch. A write that fails (validation, or a refused state) rejects alone and changes nothing;
// the others are applied. Then one commit makes the whole batch durable (the core's flush = real
// fsync in Node; plus one IndexedDB transaction in the browser) and only then are the batch's
// promises resolved. A failed commit rejects every write of its batch. In relaxed mode a batch
// resolves once applied and a commit is scheduled instead, unless a write asked for durability
// (flush(), close()).
//
// Reads made while writes are queued join the queue too, at their place: a read runs right after the
// writes queued before it were applied and before any write queued after it, exactly as the calls
// would run one after another in C (it does not wait for those writes' commit).
//
// The operations pushed here are closures over values already copied from the caller (convert.js),
// so running them later reads nothing the caller could have changed since the call.

export class WriteQueue {
  /**
   * @param {{ relaxed: boolean, commit: () => Promise<void>, scheduleCommit: () => void }} hooks
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
        for (const op of batch) {
          if (op.read) {
            try { op.resolve(op.read()); } catch (e) { op.reject(e); }
            continue;
          }
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

  /**
   * Runs `fn` (a read) after the writes queued so far are applied and before any queued later:
   * at once when nothing is queued, else at its place in the queue. Resolves with its result.
   */
  read(fn) {
    if (!this.pending) return new Promise((resolve) => resolve(fn()));
    return new Promise((resolve, reject) => {
      this.q.push({ read: fn, resolve, reject });
      if (!this.running) this.running = this.run();
    });
  }

  /** Resolves once every write queued so far is applied and committed (errors stay the writes'). */
  drain() { return this.push(() => undefined, true).catch(() => undefined); }
}
