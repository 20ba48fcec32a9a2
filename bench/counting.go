package bench

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"sync/atomic"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// roundTrips counts the requests the engine's pool sends to PostgreSQL and
// waits for, as lib/pq makes them: a prepared statement's execution is one
// (Bind, Execute, Sync), preparing is one (Parse, Describe, Sync), a query
// with arguments that was not prepared is two, BEGIN, COMMIT and ROLLBACK
// are one each. Commits are counted apart: each waits for the WAL to reach
// the disk, and so does a statement run outside a transaction (autocommit),
// which the count includes even when it only reads.
type roundTrips struct {
	total   atomic.Int64
	commits atomic.Int64
}

func (r *roundTrips) reset() { r.total.Store(0); r.commits.Store(0) }

// openCounted opens a pool on dsn whose every round trip is counted in rt.
func openCounted(dsn string, poolSize int, rt *roundTrips) (*sqlx.DB, error) {
	c, err := pq.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(countingConnector{c: c, rt: rt})
	db.SetMaxOpenConns(poolSize)
	db.SetMaxIdleConns(poolSize)
	return sqlx.NewDb(db, "postgres"), nil
}

type countingConnector struct {
	c  driver.Connector
	rt *roundTrips
}

func (c countingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.c.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: conn, rt: c.rt}, nil
}

func (c countingConnector) Driver() driver.Driver { return c.c.Driver() }

// countingConn forwards to lib/pq's connection, which implements every
// optional interface below; the assertions cannot fail for it.
type countingConn struct {
	driver.Conn
	rt   *roundTrips
	inTx bool // database/sql uses a connection from one goroutine at a time
}

// statement counts n round trips of one statement and its commit when it
// runs outside a transaction.
func (c *countingConn) statement(n int64) {
	c.rt.total.Add(n)
	if !c.inTx {
		c.rt.commits.Add(1)
	}
}

func (c *countingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	c.rt.total.Add(1)
	st, err := c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	return &countingStmt{Stmt: st, conn: c}, nil
}

func (c *countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	c.rt.total.Add(1)
	tx, err := c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	c.inTx = true
	return &countingTx{Tx: tx, conn: c}, nil
}

func (c *countingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	c.statement(unpreparedTrips(args))
	return c.Conn.(driver.ExecerContext).ExecContext(ctx, query, args)
}

func (c *countingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	c.statement(unpreparedTrips(args))
	return c.Conn.(driver.QueryerContext).QueryContext(ctx, query, args)
}

// unpreparedTrips: lib/pq sends a query without arguments as one simple
// query, and one with arguments as a parse round trip then an execute.
func unpreparedTrips(args []driver.NamedValue) int64 {
	if len(args) == 0 {
		return 1
	}
	return 2
}

func (c *countingConn) Ping(ctx context.Context) error {
	c.rt.total.Add(1)
	return c.Conn.(driver.Pinger).Ping(ctx)
}

func (c *countingConn) CheckNamedValue(nv *driver.NamedValue) error {
	return c.Conn.(driver.NamedValueChecker).CheckNamedValue(nv)
}

func (c *countingConn) ResetSession(ctx context.Context) error {
	return c.Conn.(driver.SessionResetter).ResetSession(ctx)
}

func (c *countingConn) IsValid() bool { return c.Conn.(driver.Validator).IsValid() }

type countingStmt struct {
	driver.Stmt
	conn *countingConn
}

func (s *countingStmt) Close() error {
	s.conn.rt.total.Add(1)
	return s.Stmt.Close()
}

func (s *countingStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	s.conn.statement(1)
	return s.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (s *countingStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	s.conn.statement(1)
	return s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
}

type countingTx struct {
	driver.Tx
	conn *countingConn
}

func (t *countingTx) Commit() error {
	t.conn.inTx = false
	t.conn.rt.total.Add(1)
	t.conn.rt.commits.Add(1)
	return t.Tx.Commit()
}

func (t *countingTx) Rollback() error {
	t.conn.inTx = false
	t.conn.rt.total.Add(1)
	return t.Tx.Rollback()
}
