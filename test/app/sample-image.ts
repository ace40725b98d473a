// A small three-layer image used by the app tests.
import { dir, file, hardlink, symlink, del, type Op } from '../core/tree/tree-builder.ts';

export const SAMPLE_LAYERS: Op[][] = [
  [
    dir('/'), dir('/etc'), file('/etc/passwd', { content: 'root:x:0:0:root:/root:/bin/sh\n' }),
    file('/etc/nginx.conf', { content: 'worker_processes 1;\n' }), dir('/bin'),
    file('/bin/busybox', { content: new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 3]), mode: 0o755 }),
    symlink('/bin/sh', 'busybox'), hardlink('/bin/ls', '/bin/busybox'), dir('/tmp', { mode: 0o1777 }),
    file('/old.txt', { content: 'old' }),
  ],
  [file('/etc/passwd', { content: 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n' }), del('/old.txt'), dir('/app'), file('/app/main.js', { content: 'console.log(1)\n' })],
  [file('/app/big.bin', { size: 300_000 }), file('/app/conf.d/site.conf', { content: 'x' })],
];

export const SAMPLE_CREATED_BY = ['ADD rootfs.tar /', 'RUN adduser app && rm /old.txt', 'COPY app /app'];
