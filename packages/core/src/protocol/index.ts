export { encodeComment, encodeEvent, encodeEventText, type SseMessage, utf8 } from './encode.js'
