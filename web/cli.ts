/** `npm run serve [-- options]`: starts the web app on localhost. */
import { modelDir } from '../lib/paths';
import { DEFAULT_PHOTO_TIMEOUT_MS, defaultWorkerCount } from './preprocess-pool';
import { DEFAULT_MAX_PIXELS, DEFAULT_MAX_UPLOAD_BYTES, startServer } from './server';

const HELP = `npm run serve [-- options]

Lance l'application web d'analyse d'image : classer une photo de vêtement, explorer les données
et le modèle enregistré dans modele/.

Options :
  --port N            port d'écoute (défaut : $PORT ou 3000)
  --host H            adresse d'écoute (défaut : 127.0.0.1 ; 0.0.0.0 pour le réseau local)
  --model DOSSIER     dossier du modèle (défaut : $ANALYSE_IMAGE_MODELE ou modele/)
  --max-upload-mb N   taille maximale d'une image envoyée, en Mo (défaut : ${DEFAULT_MAX_UPLOAD_BYTES / 1024 / 1024})
  --max-megapixels N  nombre maximal de mégapixels d'une image (défaut : ${DEFAULT_MAX_PIXELS / 1e6})
  --workers N         fils d'exécution qui préparent les photos (défaut : un par cœur, ${defaultWorkerCount()} ici ;
                      0 : tout sur le fil principal)
  --photo-timeout-ms N  temps maximal de préparation d'une photo, en millisecondes (défaut : ${DEFAULT_PHOTO_TIMEOUT_MS}) ;
                      au-delà, la photo est refusée et son fil d'exécution remplacé
  --help              cette aide

API : POST /api/predict (formulaire multipart, champ « image ») ->
      { "classIndex", "label", "probabilities": [10 nombres] } ; GET /api/health`;

function option(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

function positive(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!(number > 0)) {
    console.error(`Option ${name} : « ${value} » n'est pas un nombre positif.`);
    process.exit(2);
  }
  return number;
}

function workerCount(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) {
    console.error(`Option --workers : « ${value} » n'est pas un nombre entier positif ou nul.`);
    process.exit(2);
  }
  return number;
}

async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) return void console.log(HELP);
  const port = positive('--port', option('--port') ?? process.env.PORT) ?? 3000;
  const maxUploadMB = positive('--max-upload-mb', option('--max-upload-mb') ?? process.env.ANALYSE_IMAGE_MAX_UPLOAD_MB);
  const maxMegapixels = positive('--max-megapixels', option('--max-megapixels') ?? process.env.ANALYSE_IMAGE_MAX_MEGAPIXELS);
  const photoTimeoutMs = positive('--photo-timeout-ms', option('--photo-timeout-ms') ?? process.env.ANALYSE_IMAGE_PHOTO_TIMEOUT_MS);
  const running = await startServer({
    port,
    host: option('--host'),
    modelDir: option('--model') ?? modelDir(),
    maxUploadBytes: maxUploadMB ? maxUploadMB * 1024 * 1024 : undefined,
    maxPixels: maxMegapixels ? maxMegapixels * 1e6 : undefined,
    workers: workerCount(option('--workers') ?? process.env.ANALYSE_IMAGE_WORKERS),
    photoTimeoutMs,
  });
  console.log(`Application web : ${running.url}`);
  if (running.predictor.problem) console.log(`Attention : ${running.predictor.problem}\nLe serveur fonctionne, mais ne peut pas classer d'images tant qu'il n'y a pas de modèle (npm run lab).`);
  else console.log(`Modèle chargé depuis ${running.predictor.modelDir}.`);
  console.log('Ctrl+C pour arrêter.');
}

main().catch((error: Error) => {
  const inUse = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
  console.error(inUse ? `Le port est déjà utilisé : choisissez-en un autre avec --port.` : `npm run serve : ${error.message}`);
  process.exit(inUse ? 2 : 1);
});
