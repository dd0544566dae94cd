/** Records unhandled rejections, process warnings and console errors and warnings until `stop()`. */
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
  process.on('unhandledRejection', onRejection)
  process.on('warning', onWarning)
  return {
    problems,
    stop() {
      process.off('unhandledRejection', onRejection)
      process.off('warning', onWarning)
      console.error = originalError
      console.warn = originalWarn
    },
  }
}
