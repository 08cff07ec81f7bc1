/** Debian packages the set-up installs itself when it can: as root, on Debian, with apt-get. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { info } from './log';

/** True when this process may install Debian packages (root on Debian with apt-get). */
export function canUseApt(): boolean {
  return (
    process.platform === 'linux' &&
    typeof process.getuid === 'function' &&
    process.getuid() === 0 &&
    existsSync('/etc/debian_version') &&
    spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0
  );
}

/** Installs a Debian package with apt-get (refreshing the package lists once if needed); true on success. */
export function installDebianPackage(name: string): boolean {
  info(`Installation du paquet Debian ${name} (apt-get)...`);
  const install = (): boolean =>
    spawnSync('apt-get', ['install', '-y', '-qq', '-o=Dpkg::Use-Pty=0', name], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    }).status === 0;
  if (install()) return true;
  info('apt-get install a échoué ; mise à jour des listes de paquets (apt-get update) et nouvel essai...');
  spawnSync('apt-get', ['update', '-q'], { stdio: ['ignore', 'inherit', 'inherit'] });
  return install();
}
