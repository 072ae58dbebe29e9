/** A fixture config directory, a real claimcheck process serving it, and an Envoy-proto client. */
import { createFixture, type Fixture } from './fixture-config.js';
import { startClaimcheck, type ClaimcheckProcess } from './claimcheck-process.js';
import { createEnvoyClient } from './envoy-client.js';

export interface FixtureServer {
  fx: Fixture;
  cc: ClaimcheckProcess;
  client: ReturnType<typeof createEnvoyClient>;
  close(): Promise<void>;
}

/** `args`: extra `claimcheck serve` flags. */
export async function startFixtureServer(prepare?: (fx: Fixture) => Promise<void>, args: string[] = []): Promise<FixtureServer> {
  const fx = await createFixture();
  await prepare?.(fx);
  const cc = await startClaimcheck({ configDir: fx.dir, args });
  const client = createEnvoyClient(cc.grpcAddress);
  return {
    fx,
    cc,
    client,
    close: async () => {
      client.close();
      await cc.stop();
      await fx.cleanup();
    },
  };
}
