/**
 * Measures how long the extension host's main thread is held up: a short interval timer records how late
 * each tick fires. For the worst tick it also records how much CPU this process used meanwhile, which tells
 * a real block (CPU busy ≈ stall) from being starved by other processes (CPU ≈ 0). Only runs on request.
 */
export class StallMonitor {
  private timer: NodeJS.Timeout | undefined;
  private last = 0;
  private lastCpu = process.cpuUsage();
  maxStallMs = 0;
  /** CPU time (user + system) this process used during the worst stall. */
  maxStallCpuMs = 0;
  ticks = 0;

  constructor(private readonly intervalMs = 10) {}

  start(): void {
    this.stop();
    this.maxStallMs = 0;
    this.maxStallCpuMs = 0;
    this.ticks = 0;
    this.last = performance.now();
    this.lastCpu = process.cpuUsage();
    this.timer = setInterval(() => {
      const now = performance.now();
      const cpu = process.cpuUsage();
      const late = now - this.last - this.intervalMs;
      if (late > this.maxStallMs) {
        this.maxStallMs = late;
        this.maxStallCpuMs = (cpu.user - this.lastCpu.user + cpu.system - this.lastCpu.system) / 1000;
      }
      this.last = now;
      this.lastCpu = cpu;
      this.ticks++;
    }, this.intervalMs);
  }

  /** Stops and returns the longest stall seen (ms). */
  stop(): number {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    return this.maxStallMs;
  }
}
