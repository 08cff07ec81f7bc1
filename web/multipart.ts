/** A small multipart/form-data reader for uploads already held in memory (the server caps their size first). */

/** One part of a multipart body. */
export interface FormPart {
  /** The field name (`name` of Content-Disposition). */
  name: string;
  /** The file name, for file fields. */
  filename?: string;
  /** The part's own Content-Type, if given. */
  contentType?: string;
  /** The part's bytes. */
  data: Buffer;
}

/** A request whose body is not the multipart form the API expects (message in French for the user). */
export class FormError extends Error {}

/** The boundary of a `multipart/form-data; boundary=...` content type, or undefined for any other type. */
export function multipartBoundary(contentType: string | undefined): string | undefined {
  if (!contentType || !/^multipart\/form-data\s*(;|$)/i.test(contentType)) return undefined;
  const match = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return match ? (match[1] ?? match[2]) : undefined;
}

function headerParam(header: string, name: string): string | undefined {
  const match = new RegExp(`;\\s*${name}="([^"]*)"|;\\s*${name}=([^;\\s]*)`, 'i').exec(header);
  return match ? (match[1] ?? match[2]) : undefined;
}

/** Splits a multipart body into its parts; throws FormError when it is malformed. */
export function parseMultipart(body: Buffer, boundary: string): FormPart[] {
  const delimiter = Buffer.from(`--${boundary}`);
  let position = body.indexOf(delimiter);
  if (position < 0) throw new FormError('le corps de la requête ne contient pas le séparateur multipart annoncé.');
  const parts: FormPart[] = [];
  for (;;) {
    position += delimiter.length;
    // "--" after a delimiter closes the body.
    if (body[position] === 0x2d && body[position + 1] === 0x2d) return parts;
    if (body[position] === 0x0d && body[position + 1] === 0x0a) position += 2;
    const headerEnd = body.indexOf('\r\n\r\n', position);
    if (headerEnd < 0) throw new FormError('une partie du formulaire multipart n’a pas d’en-têtes complets.');
    const headers = body.subarray(position, headerEnd).toString('utf8').split('\r\n');
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), headerEnd + 4);
    if (next < 0) throw new FormError('le formulaire multipart est tronqué (séparateur final absent).');
    const disposition = headers.find((h) => /^content-disposition:/i.test(h)) ?? '';
    const type = headers.find((h) => /^content-type:/i.test(h));
    const name = headerParam(disposition, 'name');
    if (name === undefined) throw new FormError('une partie du formulaire multipart n’a pas de nom de champ.');
    parts.push({ name, filename: headerParam(disposition, 'filename'), contentType: type?.split(':')[1]?.trim(), data: body.subarray(headerEnd + 4, next) });
    position = next + 2;
  }
}
