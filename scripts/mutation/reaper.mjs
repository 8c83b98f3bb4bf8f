#!/usr/bin/env node
// Ends the test processes that Stryker's tap runner left behind (docs/CONTRIBUTING.md "Mutation
// testing"). When a mutant times out, Stryker kills its worker process, but the `node -r hook.cjs
// <test file>` the worker had spawned is not its process group's leader and keeps running: a
// mutant that makes EM loop forever then burns a core for minutes while the next mutants crawl.
// This watches /proc every second and sends SIGKILL to a tap test process whose parent is no
// longer a Stryker worker (the worker is gone, so the process was re-parented). A test process
// whose worker is alive is never touched, so the verdicts Stryker records are its own.
//   node scripts/mutation/reaper.mjs &   (ends by itself when no Stryker process has been seen for 60 s)
import { readdirSync, readFileSync } from 'node:fs';

const POLL_MS = 1000;
const IDLE_EXIT_MS = 60_000;

/** The command line of a process as one string, or undefined when it has exited. */
function commandLine(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return undefined;
  }
}

/** The parent pid of a process, or undefined when it has exited. */
function parentPid(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // field 4, after the command name in parentheses (which may hold spaces)
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

let lastSeen = Date.now();
let reaped = 0;
const timer = setInterval(() => {
  let strykerSeen = false;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const cmd = commandLine(pid);
    if (!cmd) continue;
    if (cmd.includes('stryker')) strykerSeen = true;
    if (!cmd.includes('tap-runner/dist/src/setup/hook.cjs')) continue;
    const parent = parentPid(pid);
    const parentCmd = parent === undefined ? undefined : commandLine(parent);
    if (parentCmd?.includes('child-process-proxy-worker')) continue;
    try {
      process.kill(pid, 'SIGKILL');
      reaped += 1;
      console.log(`${new Date().toISOString()} reaped orphaned test process ${pid} (parent ${parent}): ${cmd.slice(cmd.lastIndexOf(' ') + 1)}`);
    } catch {
      // exited between the scan and the kill
    }
  }
  if (strykerSeen) lastSeen = Date.now();
  else if (Date.now() - lastSeen > IDLE_EXIT_MS) {
    clearInterval(timer);
    console.log(`no Stryker process for ${IDLE_EXIT_MS / 1000} s: reaper exits (${reaped} reaped)`);
  }
}, POLL_MS);
