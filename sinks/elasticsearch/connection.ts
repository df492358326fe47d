/**
 * The client's HTTP connection (undici), with every answer bounded. The transport reads a whole answer into memory
 * before it is parsed: a `_bulk` answer of 512 MiB (a broken proxy, a hostile endpoint) took the agent's RSS to
 * 645 MiB. With `filter_path` (sink.ts) the answer for 1,000 records is a few KiB even when every item failed
 * (a few hundred bytes of reason each), so MAX_RESPONSE_BYTES leaves room to spare; a larger answer aborts the request
 * (RequestAbortedError), which classify.ts treats as a retry: nothing is known to be stored, creates are idempotent.
 *
 * Why not just the client's own maxResponseSize / maxCompressedResponseSize (they are set too, sink.ts): the
 * transport (8.11) answers a content-length over the limit with `response.body.destroy()` and no error listener, so
 * undici's 'Request aborted' became an uncaught exception that ended the agent; and a gzipped answer (with
 * `compression: true` the client asks for one) is inflated afterwards without any limit: 16 MiB of gzip can be
 * 16 GiB of text. So the body is taken as a stream here, read within the limit, inflated within it, and handed on
 * as plain bytes.
 */
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { unzip as unzipCallback, type InputType, type ZlibOptions } from 'node:zlib';
import { elasticsearch } from './client-module.js';
import type {
  ConnectionRequestOptions,
  ConnectionRequestOptionsAsStream,
  ConnectionRequestParams,
  ConnectionRequestResponse,
  ConnectionRequestResponseAsStream,
} from '@elastic/elasticsearch';

/** The largest answer taken, compressed or not, and once inflated (16 MiB). */
export const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

const unzip = promisify(unzipCallback) as (buffer: InputType, options: ZlibOptions) => Promise<Buffer>;

class TooLarge extends Error {}

const { errors } = elasticsearch;

export class BoundedConnection extends elasticsearch.UndiciConnection {
  override request(params: ConnectionRequestParams, options: ConnectionRequestOptions): Promise<ConnectionRequestResponse>;
  override request(params: ConnectionRequestParams, options: ConnectionRequestOptionsAsStream): Promise<ConnectionRequestResponseAsStream>;
  override async request(
    params: ConnectionRequestParams,
    options: ConnectionRequestOptions | ConnectionRequestOptionsAsStream,
  ): Promise<ConnectionRequestResponse | ConnectionRequestResponseAsStream> {
    if ('asStream' in options && options.asStream === true) return super.request(params, options);
    const { statusCode, headers, body } = await super.request(params, { ...options, asStream: true } as ConnectionRequestOptionsAsStream);
    const stream = body as unknown as Readable;
    // Errors come out of the iteration below; a stream destroyed before it must not throw them at the process.
    stream.on('error', () => undefined);
    const encoding = String(headers?.['content-encoding'] ?? '').toLowerCase();
    const compressed = encoding.includes('gzip') || encoding.includes('deflate');
    const plainLimit = options.maxResponseSize ?? MAX_RESPONSE_BYTES;
    const limit = compressed ? (options.maxCompressedResponseSize ?? MAX_RESPONSE_BYTES) : plainLimit;
    const tooLarge = (bytes: number): never => {
      stream.destroy();
      throw new errors.RequestAbortedError(`The answer (${bytes} bytes and more) is bigger than the maximum allowed (${limit} bytes)`);
    };
    const declared = Number(headers?.['content-length']);
    if (Number.isFinite(declared) && declared > limit) tooLarge(declared);
    const chunks: Buffer[] = [];
    let length = 0;
    try {
      for await (const chunk of stream) {
        length += (chunk as Buffer).length;
        if (length > limit) throw new TooLarge();
        chunks.push(chunk as Buffer);
      }
    } catch (err) {
      if (err instanceof TooLarge) tooLarge(length);
      throw new errors.ConnectionError((err as Error).message);
    }
    let bytes: Buffer = Buffer.concat(chunks);
    if (!compressed) return { statusCode, headers, body: bytes as unknown as string };
    try {
      bytes = await unzip(bytes, { maxOutputLength: plainLimit });
    } catch (err) {
      throw new errors.RequestAbortedError(
        (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE'
          ? `The answer is bigger than the maximum allowed (${plainLimit} bytes) once decompressed`
          : `cannot decompress the answer: ${(err as Error).message}`,
      );
    }
    const plainHeaders = { ...headers };
    delete plainHeaders['content-encoding'];
    return { statusCode, headers: plainHeaders, body: bytes as unknown as string };
  }
}
