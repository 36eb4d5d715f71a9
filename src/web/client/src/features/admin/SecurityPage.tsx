import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api/http';
import { Button, Card, ErrorNotice, Loading, PageHeader, SuccessNotice, formatDateTime } from '../../ui/components';
import { DataTable } from '../../ui/DataTable';
import { RequireSuperuser } from './AdminLayout';
import { SettingsGroup, useTenantSettings, type FieldSpec } from './SettingsFields';

interface BlockedIp {
  readonly ip: string;
  readonly failures: number;
  readonly lastAttemptAt: string;
}

/** Settings on this screen; the settings screen shows every other one. */
export const securityGroups: readonly { title: string; description?: string; fields: readonly FieldSpec[] }[] = [
  {
    title: 'Passwords',
    fields: [
      { name: 'Security.password_min_length', label: 'Minimum length' },
      { name: 'Security.password_require_complexity', label: 'Require three of lower case, upper case, digit, symbol' },
      { name: 'Security.password_history', label: 'Previous passwords that may not be reused' },
      { name: 'Security.password_expiry_days', label: 'Password expiry (days, 0: never)' },
    ],
  },
  {
    title: 'Two-factor authentication',
    fields: [
      { name: 'Security.require_mfa', label: 'Require two-factor authentication for every user' },
      { name: 'Security.mfa_issuer', label: 'Issuer shown in authenticator apps' },
    ],
  },
  {
    title: 'Sessions',
    description: 'How long a signed-in session lasts.',
    fields: [
      { name: 'General.login_session_not_remembered_idle_timeout', label: 'Idle timeout', kind: 'duration', hint: 'Inactivity that ends a session without “remember me”.' },
      { name: 'General.login_session_absolute_lifetime', label: 'Absolute lifetime', kind: 'duration', hint: 'Time after sign-in that ends a session without “remember me”, however active.' },
      { name: 'General.login_cookie_expire', label: '“Remember me” lifetime', kind: 'duration', hint: 'Lifetime of a remembered session.' },
    ],
  },
  {
    title: 'Sign-in protection',
    fields: [
      { name: 'Security.brute_force_max_retries', label: 'Failed sign-ins before an IP is blocked' },
      { name: 'Security.brute_force_window_minutes', label: 'Counting window (minutes)' },
      {
        name: 'Security.login_allowlist_ip',
        label: 'IP allowlist',
        hint: 'One IP or range per line (1.2.3.4, 10.0.0.0/8, 2001:db8::/32, 1.2.3.*). Empty: every address may use the interface and the APIs. Your own address must be in it.',
      },
    ],
  },
  {
    title: 'API',
    fields: [
      { name: 'Security.api_rate_limit_per_minute', label: 'Calls per minute per user or token (0: unlimited)' },
      { name: 'Security.api_rate_limit_per_hour', label: 'Calls per hour per user or token (0: unlimited)' },
      { name: 'Security.rotate_tokens_on_role_rise', label: 'Delete a user’s tokens when its role rises' },
    ],
  },
];

function BlockedIps() {
  const queryClient = useQueryClient();
  const blocked = useQuery({ queryKey: ['admin', 'blocked-ips'], queryFn: () => api.get<{ blocked: BlockedIp[] }>('/api/v1/security/blocked-ips') });
  const unblock = useMutation({
    mutationFn: (ip: string) => api.del(`/api/v1/security/blocked-ips/${encodeURIComponent(ip)}`),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['admin', 'blocked-ips'] }),
  });
  return (
    <Card
      title="Blocked IP addresses"
      actions={
        <Button onClick={() => void blocked.refetch()} busy={blocked.isFetching}>
          Refresh
        </Button>
      }
    >
      <p className="muted">Addresses with too many failed sign-ins in the window. A block lifts by itself as failures age out; unblocking lifts it now.</p>
      {blocked.isLoading && <Loading />}
      <ErrorNotice error={blocked.error ?? unblock.error} />
      <SuccessNotice>{unblock.isSuccess && `${unblock.variables} was unblocked.`}</SuccessNotice>
      {blocked.data && (
        <DataTable
          caption="Blocked IP addresses"
          searchable={false}
          rows={blocked.data.blocked}
          rowKey={(row) => row.ip}
          empty="No address is blocked."
          columns={[
            { key: 'ip', label: 'IP address', render: (row) => <code>{row.ip}</code> },
            { key: 'failures', label: 'Failed attempts', numeric: true },
            { key: 'lastAttemptAt', label: 'Last attempt', render: (row) => formatDateTime(row.lastAttemptAt) },
          ]}
          rowActions={(row) => (
            <Button aria-label={`Unblock ${row.ip}`} busy={unblock.isPending && unblock.variables === row.ip} onClick={() => unblock.mutate(row.ip)}>
              Unblock
            </Button>
          )}
        />
      )}
    </Card>
  );
}

/** /admin/security: password policy, MFA, sessions, sign-in protection, API limits, blocked IPs. */
function SecurityPageScreen() {
  const settings = useTenantSettings();
  return (
    <div className="page">
      <PageHeader title="Security">
        <p className="muted">Sign-in rules for every user of this tenant. Each value shows where it comes from; reset one to inherit the platform’s value again.</p>
      </PageHeader>
      {settings.isLoading && <Loading />}
      <ErrorNotice error={settings.error} />
      {settings.data && (
        <div className="admin-settings-grid">
          {securityGroups.map((group) => (
            <SettingsGroup key={group.title} title={group.title} description={group.description} fields={group.fields} settings={settings.data.settings} />
          ))}
        </div>
      )}
      <BlockedIps />
    </div>
  );
}

/** Only super users reach the screen (and its requests); anyone else is told so. */
export function SecurityPage() {
  return (
    <RequireSuperuser>
      <SecurityPageScreen />
    </RequireSuperuser>
  );
}
