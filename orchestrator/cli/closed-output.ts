// When the reader of the CLI's output goes away (`orchestrate report | head -1`, a closed ssh
// session, a log pipe that died), a write fails with EPIPE. Node ignores SIGPIPE, so without a
// listener that failure is an unhandled 'error' event: the process dies with a stack trace in the
// middle of whatever it was doing, possibly a sweep. Here the stream's errors are taken instead:
// output stops, the command's work goes on and ends as it would have (its results are in the store
// and its status in the exit code).

/** Makes `stream`'s write errors end its output instead of the process. */
export function dropOutputWhenClosed(stream: NodeJS.WriteStream): void {
  stream.on('error', () => {
    // the reader is gone: nothing more can be shown there, and nothing is lost by not showing it
  });
}
