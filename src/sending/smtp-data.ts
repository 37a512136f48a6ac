const endOfData = Buffer.from(".\r\n");
const lineAndEndOfData = Buffer.from("\r\n.\r\n");

/**
 * The message as DATA bytes (`dataReady`: the caller built it with CRLF line ends and no line
 * starting with a dot, so it is not scanned again): our messages are built with CRLF line ends, so usually they are
 * written as they are; a line that starts with a dot gets a second one (RFC 5321 4.5.2) and a bare
 * CR or LF becomes CRLF (so "\r.\r" can never end the data early). Checking costs a few native
 * searches per line instead of a JavaScript loop over every byte.
 */
export function dataBytes(message: Buffer, dataReady = false): Buffer[] {
  const endsWithLine =
    message.length >= 2 && message[message.length - 2] === 0x0d && message[message.length - 1] === 0x0a;
  const tail = endsWithLine || message.length === 0 ? endOfData : lineAndEndOfData;
  return [dataReady || isClean(message) ? message : stuffed(message), tail];
}

/**
 * CRLF line ends only and no line starting with a dot: sendable as DATA without stuffing. Also
 * false for a leading LF or a trailing CR, so a run of a template is clean only if no neighbouring
 * slot could complete a bad line end.
 */
export function isClean(message: Buffer): boolean {
  if (message[0] === 0x2e) return false;
  for (let i = message.indexOf(0x0a); i !== -1; i = message.indexOf(0x0a, i + 1))
    if (message[i - 1] !== 0x0d || message[i + 1] === 0x2e) return false;
  for (let i = message.indexOf(0x0d); i !== -1; i = message.indexOf(0x0d, i + 1))
    if (message[i + 1] !== 0x0a) return false;
  return true;
}

function stuffed(message: Buffer): Buffer {
  const out: number[] = [];
  let lineStart = true;
  for (let i = 0; i < message.length; i++) {
    const byte = message[i] as number;
    if (byte === 0x0d || byte === 0x0a) {
      // CRLF, a bare CR or a bare LF: each is one line end, written as CRLF.
      if (byte === 0x0d && message[i + 1] === 0x0a) i++;
      out.push(0x0d, 0x0a);
      lineStart = true;
      continue;
    }
    if (lineStart && byte === 0x2e) out.push(0x2e);
    out.push(byte);
    lineStart = false;
  }
  return Buffer.from(out);
}

/**
 * The message with every bare CR and bare LF as CRLF, as DATA carries it (dot-stuffing aside,
 * which the server undoes): what a DKIM signature must be computed over. The same buffer when it
 * has CRLF line ends only.
 */
export function crlfOnly(message: Buffer): Buffer {
  let bare = false;
  for (let i = message.indexOf(0x0a); i !== -1 && !bare; i = message.indexOf(0x0a, i + 1))
    bare = message[i - 1] !== 0x0d;
  for (let i = message.indexOf(0x0d); i !== -1 && !bare; i = message.indexOf(0x0d, i + 1))
    bare = message[i + 1] !== 0x0a;
  if (!bare) return message;
  const out = Buffer.allocUnsafe(message.length * 2);
  let to = 0;
  for (let i = 0; i < message.length; i++) {
    const byte = message[i] as number;
    if (byte === 0x0d || byte === 0x0a) {
      if (byte === 0x0d && message[i + 1] === 0x0a) i++;
      out[to++] = 0x0d;
      out[to++] = 0x0a;
    } else out[to++] = byte;
  }
  return out.subarray(0, to);
}
