/** The satisfaction survey (满意度调查) on a closed ticket's page: the unit's customer answers once; staff read it and its follow-up. */
import { useState } from 'preact/hooks';
import { api, errorText } from '../api.ts';
import { useLoad } from '../hooks.ts';
import { t, useLang, type MessageKey } from '../i18n.ts';
import { me } from '../session.ts';

const QUESTIONS = ['response', 'quality', 'attitude'] as const;
type Scores = Record<(typeof QUESTIONS)[number], number>;
interface Survey {
  answeredAt: number | null;
  scores: Scores | null;
  comments: string | null;
  followUp: { status: string; outcome: string | null } | null;
}

export function SurveyPanel({ ticketId }: { ticketId: number }) {
  useLang();
  const s = useLoad(() => api.get<{ survey: Survey | null }>(`/api/tickets/${ticketId}/survey`), [ticketId]);
  const [scores, setScores] = useState<Scores>({ response: 5, quality: 5, attitude: 5 });
  const [comments, setComments] = useState('');
  const [error, setError] = useState<string | null>(null);
  const survey = s.data?.survey;
  if (!survey) return null;
  const customer = me().role === 'customer';
  return (
    <section class="card survey" data-testid="survey">
      <h3>{t('survey.title')}</h3>
      {survey.scores ? (
        <>
          <p data-testid="survey-answered">
            {QUESTIONS.map((q) => `${t(`survey.q.${q}` as MessageKey)} ${survey.scores![q]}`).join(' · ')}
          </p>
          {survey.comments && <p>{survey.comments}</p>}
          {customer && <p class="muted">{t('survey.thanks')}</p>}
          {survey.followUp && (
            <p>
              {t('survey.followUp')}: {survey.followUp.status} {survey.followUp.outcome ?? ''}
            </p>
          )}
        </>
      ) : customer ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            setError(null);
            api
              .post(`/api/tickets/${ticketId}/survey`, {
                scores,
                ...(comments.trim() ? { comments: comments.trim() } : {}),
              })
              .then(s.reload, (err: unknown) => setError(errorText(err)));
          }}
        >
          {QUESTIONS.map((q) => (
            <label key={q}>
              {t(`survey.q.${q}` as MessageKey)}{' '}
              <select
                value={scores[q]}
                data-testid={`survey-${q}`}
                onChange={(e) => setScores({ ...scores, [q]: Number(e.currentTarget.value) })}
              >
                {[5, 4, 3, 2, 1].map((n) => (
                  <option key={n} value={n}>
                    {n}
                  </option>
                ))}
              </select>
            </label>
          ))}
          <label>
            {t('survey.comments')}
            <textarea value={comments} maxLength={2000} onInput={(e) => setComments(e.currentTarget.value)} />
          </label>
          <button type="submit" data-testid="survey-submit">
            {t('survey.submit')}
          </button>
          {error && <p class="error">{error}</p>}
        </form>
      ) : (
        <p class="muted">{t('survey.waiting')}</p>
      )}
    </section>
  );
}
