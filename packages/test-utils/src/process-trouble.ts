/**
 * Records unhandled rejections, process warnings, console errors and warnings and anything written to
 * stderr until `stop()`.
 */
export function recordProcessTrouble(): { readonly problems: string[]; stop(): void } {
  const problems: string[] = []
  const onRejection = (reason: unknown) => problems.push(`unhandledRejection: ${String(reason)}`)
  const onWarning = (warning: Error) => problems.push(`warning: ${warning.name}: ${warning.message}`)
  const originalError = console.error
  const originalWarn = console.warn
  console.error = (...args: unknown[]) => {
    problems.push(`console.error: ${args.map(String).join(' ')}`)
    originalError(...args)
  }
  console.warn = (...args: unknown[]) => {
    problems.push(`console.warn: ${args.map(String).join(' ')}`)
    originalWarn(...args)
  }
  const originalWrite = process.stderr.write
  process.stderr.write = ((chunk: unknown, ...rest: unknown[]) => {
    problems.push(`stderr: ${String(chunk).slice(0, 300)}`)
    return (originalWrite as (...args: unknown[]) => boolean).call(process.stderr, chunk, ...rest)
  }) as typeof process.stderr.write
  process.on('unhandledRejection', onRejection)
  process.on('warning', onWarning)
  return {
    problems,
    stop() {
      process.off('unhandledRejection', onRejection)
      process.off('warning', onWarning)
      console.error = originalError
      console.warn = originalWarn
      process.stderr.write = originalWrite
    },
  }
}
