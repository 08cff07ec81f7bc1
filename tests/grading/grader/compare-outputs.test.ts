import { printedAccuracies, printedPredictions } from '../../../grading/grader/steps/compare-outputs';

test('printed accuracies: lines of their own, decimal comma and percent, not the course reminder', () => {
  const texts = ['Erreur: 0.2593\nPrécision: 0.9066\n(le cours obtient Erreur: 0.2593, Précision: 0.9082)\n', 'Précision : 91,5 %\n', 'Precision: 0.5\n', 'La Précision: 0.99 est bonne\n'];
  expect(printedAccuracies(texts)).toEqual([0.9066, 0.915, 0.5]);
});

test('printed predictions: the file name line then the verdict line, as test_model prints them', () => {
  const text = "pantalon.jpg\nSelon moi l'image est : Un pantalon\n\nUn T-shirt/haut: 0.01%\nsac.jpg\nSelon moi l’image est : Un sac\n";
  expect([...printedPredictions([text])]).toEqual([
    ['pantalon.jpg', 'Un pantalon'],
    ['sac.jpg', 'Un sac'],
  ]);
  expect(printedPredictions(['Selon moi l\'image est : Un sac']).size).toBe(0);
});
