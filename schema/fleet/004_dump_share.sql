-- 004_dump_share.sql - the raw dump's copy on the fleet's dump share: an agent with fleet.dump_share puts
-- "share_path" in its snapshots, and fleet.dumps.share_path (there since 001, shown by api_show/api_list
-- and fleet.v_dumps) takes it. apply_snapshot of 001 is kept under a new name and wrapped, so its body
-- is not repeated here; fleet.ingest calls apply_snapshot by name.

ALTER FUNCTION fleet.apply_snapshot(uuid, uuid, jsonb) RENAME TO apply_snapshot_001;

CREATE FUNCTION fleet.apply_snapshot(p_host uuid, p_event uuid, d jsonb) RETURNS uuid LANGUAGE plpgsql
SET search_path = fleet, pg_temp
AS $$
DECLARE
	did uuid := apply_snapshot_001(p_host, p_event, d);
BEGIN
	IF d ? 'share_path' THEN
		UPDATE dumps SET share_path = d->>'share_path'
		WHERE id = did AND discovered_at = (d->>'discovered_at')::bigint
		  AND share_path IS DISTINCT FROM d->>'share_path';
	END IF;
	RETURN did;
END $$;
REVOKE ALL ON FUNCTION fleet.apply_snapshot(uuid, uuid, jsonb) FROM PUBLIC;
