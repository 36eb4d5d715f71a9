import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Button, Card, ErrorNotice, Loading, PageHeader, SuccessNotice, formatDateTime } from '../../ui/components';
import { ConfirmDialog } from './Confirm';
import { keys, platformApi, type StrategySwitch, type TenantStrategy } from './api';

const label: Record<TenantStrategy, string> = { 'multi-tenant': 'Multi-tenant', 'single-tenant': 'Single-tenant' };

function count(list: readonly string[] | undefined): number {
  return list?.length ?? 0;
}

function Outcome({ result }: { result: StrategySwitch }) {
  const touched = result.tenants.filter((t) => count(t.deactivated) + count(t.reactivated) + count(t.stillDeactivated) > 0);
  return (
    <SuccessNotice>
      The platform is now {label[result.strategy].toLowerCase()}
      {result.previous === result.strategy ? ' (it already was; the switch was applied again to finish any interrupted one)' : ''}.
      {touched.length > 0 && (
        <ul>
          {touched.map((t) => (
            <li key={t.tenant}>
              {t.tenant}: {t.deactivated ? `${count(t.deactivated)} users deactivated` : `${count(t.reactivated)} users reactivated, ${count(t.stillDeactivated)} stay deactivated`}
            </li>
          ))}
        </ul>
      )}
    </SuccessNotice>
  );
}

/** /platform/strategy: single- or multi-tenant, and what switching does. */
export function StrategyPage() {
  const queryClient = useQueryClient();
  const strategy = useQuery({ queryKey: keys.strategy, queryFn: platformApi.strategy });
  const [target, setTarget] = useState<TenantStrategy | null>(null);
  const change = useMutation({
    mutationFn: (to: TenantStrategy) => platformApi.switchStrategy(to),
    onSuccess: async (answer) => {
      setTarget(null);
      queryClient.setQueryData(keys.strategy, { strategy: answer.strategy, changedAt: answer.changedAt });
      await queryClient.invalidateQueries({ queryKey: keys.all });
    },
  });
  const current = strategy.data?.strategy;
  const other: TenantStrategy = current === 'single-tenant' ? 'multi-tenant' : 'single-tenant';

  return (
    <>
      <PageHeader title="Tenant strategy" />
      {strategy.isLoading && <Loading />}
      <ErrorNotice error={strategy.error} />
      {strategy.data && current && (
        <Card title={`This platform is ${label[current].toLowerCase()}`}>
          <p>
            {current === 'multi-tenant'
              ? 'Tenants have their own users, who sign in at their tenant’s hosts; shared and tenant collections are offered to them.'
              : 'Only platform users sign in. Tenant users are deactivated and no tenant user can be created; shared and tenant collections are hidden.'}
          </p>
          <p className="muted">{strategy.data.changedAt ? `Last switched ${formatDateTime(strategy.data.changedAt)}.` : 'Never switched: the default.'}</p>
          {change.data && <Outcome result={change.data} />}
          <div className="platform-actions platform-actions-start">
            <Button
              variant={other === 'single-tenant' ? 'danger' : 'primary'}
              onClick={() => {
                change.reset();
                setTarget(other);
              }}
            >
              Switch to {label[other].toLowerCase()}
            </Button>
            <Button
              onClick={() => {
                change.reset();
                setTarget(current);
              }}
            >
              Apply {label[current].toLowerCase()} again
            </Button>
          </div>
          <p className="muted platform-note">Applying the current strategy again finishes a switch that a failure interrupted.</p>
        </Card>
      )}
      <ConfirmDialog
        open={target !== null}
        title={target === 'single-tenant' ? 'Switch to single-tenant?' : target === 'multi-tenant' ? 'Switch to multi-tenant?' : ''}
        confirmLabel={target && target === current ? `Apply ${label[target].toLowerCase()} again` : `Switch to ${target ? label[target].toLowerCase() : ''}`}
        danger={target === 'single-tenant'}
        busy={change.isPending}
        error={change.error}
        {...(target === 'single-tenant' && current !== 'single-tenant' ? { typeToConfirm: 'single-tenant' } : {})}
        onConfirm={() => target && change.mutate(target)}
        onClose={() => setTarget(null)}
      >
        {target === 'single-tenant' ? (
          <ul>
            <li>
              <strong>Every tenant user is deactivated</strong>: their sessions end and their API tokens are refused.
            </li>
            <li>No tenant user can be created (administration, SSO, SCIM).</li>
            <li>Shared and tenant collections are hidden from everyone.</li>
            <li>Platform users, internal and personal collections, tracking and all data carry on.</li>
            <li>Switching back to multi-tenant reactivates exactly the users this switch deactivated.</li>
          </ul>
        ) : (
          <ul>
            <li>Platform users stay platform users.</li>
            <li>Exactly the tenant users the switch to single-tenant deactivated come back, with their tokens.</li>
            <li>Users of a deactivated tenant wait for its activation; users an administrator deactivated stay deactivated.</li>
          </ul>
        )}
      </ConfirmDialog>
    </>
  );
}
