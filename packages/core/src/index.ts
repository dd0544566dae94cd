export { HeraldConfigError, HeraldEncodingError, HeraldError } from './errors.js'
export { encodeComment, encodeEvent, encodeEventText, type SseMessage } from './protocol/index.js'
