/*
 * loop_guard.h - the proof that the event loops only read.
 *
 * Every store write sigild makes while serving belongs on the writer
 * thread (writer.h); a handler that calls a store write function itself
 * runs it on its event loop instead, where an fsync stalls every client.
 * The guard catches such a call: a thread that runs an event loop is
 * marked (writer_start and writer_loop_add mark the thread that calls
 * them), and a marked thread that begins an LMDB write transaction is
 * refused: the store function returns SIGIL_EDENIED, and the first
 * refusal is logged (event loop_guard).
 *
 * Off unless the environment says otherwise when the thread is marked:
 *   SIGIL_LOOP_GUARD=1      refuse (the black-box suites then see the
 *                           unconverted call site as an error reply)
 *   SIGIL_LOOP_GUARD=abort  log and abort(): a core with the stack
 * Unset, empty or 0: off. Reads are never affected, nor are other
 * threads (the writer, the CLI, start-up before the mark).
 */
#ifndef SIGIL_LOOP_GUARD_H
#define SIGIL_LOOP_GUARD_H

/* Marks (on) or unmarks the calling thread as an event-loop thread. */
void loop_guard_mark(int on);

/* 1 when the calling thread is marked and the guard is on for it. */
int loop_guard_active(void);

#endif
