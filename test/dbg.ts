import { HealthState } from '../src/grpc/health.js';
import { startGrpcServer, CHECK_PATH } from '../src/grpc/server.js';
import { spawn } from 'node:child_process';
const s = await startGrpcServer({ addr: '127.0.0.1:0', health: new HealthState(true), check: () => ({ kind: 'ok', headersToSet: [], headersToRemove: [] }) });
await new Promise((r) => { const c = spawn('/root/.cache/claimcheck/h2spec-v2.2.1+incompatible/bin/h2spec', ['-h','127.0.0.1','-p',String(s.port),'-P',CHECK_PATH,'-o','2','-v','generic/2','http2/5.1.2'], { stdio: 'inherit' }); c.on('exit', r); });
process.exit(0);
